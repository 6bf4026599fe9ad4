using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using DefectInspector.Host.Publish;
using DefectInspector.Publish.Contracts;

namespace DefectInspector.Host.Hmi;

/// <summary>
/// What open HMI pages see without reloading: server-sent events (each page its own bounded queue; a slow page loses
/// its oldest events, never slows the line) and the latest overlay per camera. Overlays of OK parts are drawn only
/// while a page watches, at most <c>Hmi:LiveFps</c> per camera.
/// </summary>
internal sealed class LiveFeed(double liveFps) : ILiveView
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);
    private readonly ConcurrentDictionary<Channel<SseItem<string>>, byte> pages = new();
    private readonly ConcurrentDictionary<string, LiveFrame> frames = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, LiveVerdict> latest = new(StringComparer.Ordinal);
    private readonly long overlayInterval = liveFps > 0 ? (long)(Stopwatch.Frequency / liveFps) : long.MaxValue;

    public int Watchers => pages.Count;

    public IReadOnlyDictionary<string, LiveVerdict> Latest => latest;

    /// <summary>Whether the render stage should draw an overlay of an OK part of <paramref name="camera"/> for the live view.</summary>
    public bool WantsOverlay(string camera) =>
        !pages.IsEmpty && overlayInterval != long.MaxValue
        && (!frames.TryGetValue(camera, out var frame) || Stopwatch.GetTimestamp() - frame.At >= overlayInterval);

    public LiveFrame? Frame(string camera) => frames.GetValueOrDefault(camera);

    /// <summary>A decided part (never an error verdict: those have no findings), with its overlay when one was drawn.</summary>
    public void Decided(VerdictMessage verdict, byte[]? overlay)
    {
        if (overlay is not null) frames[verdict.Camera] = new LiveFrame(verdict.Id, overlay, Stopwatch.GetTimestamp());
        var live = new LiveVerdict(verdict.Camera, verdict.Id, verdict.Verdict, verdict.DefectScore ?? 0, verdict.PredictedClass ?? "", verdict.Regions.Count,
            verdict.DecidedAt, overlay is not null || frames.ContainsKey(verdict.Camera));
        latest[verdict.Camera] = live;
        Post("verdict", live, HmiJson.Default.LiveVerdict);
    }

    public void Post<T>(string type, T payload, JsonTypeInfo<T> json)
    {
        if (pages.IsEmpty) return;
        var item = new SseItem<string>(JsonSerializer.Serialize(payload, json), type);
        foreach (var page in pages.Keys) page.Writer.TryWrite(item);
    }

    /// <summary>One page's events, starting with <paramref name="hello"/>, until <paramref name="cancellation"/>; a heartbeat keeps idle connections open.</summary>
    public async IAsyncEnumerable<SseItem<string>> Subscribe(SseItem<string> hello, [EnumeratorCancellation] CancellationToken cancellation)
    {
        var page = Channel.CreateBounded<SseItem<string>>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        pages[page] = 0;
        try
        {
            yield return hello;
            while (!cancellation.IsCancellationRequested)
            {
                using var beat = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
                beat.CancelAfter(Heartbeat);
                bool ready;
                try
                {
                    ready = await page.Reader.WaitToReadAsync(beat.Token);
                }
                catch (OperationCanceledException) when (!cancellation.IsCancellationRequested)
                {
                    ready = false;
                }
                catch (OperationCanceledException)
                {
                    // The page went or the daemon stops: the stream ends, which is no error to log.
                    yield break;
                }
                if (!ready)
                {
                    yield return new SseItem<string>("{}", "heartbeat");
                    continue;
                }
                while (page.Reader.TryRead(out var item)) yield return item;
            }
        }
        finally
        {
            pages.TryRemove(page, out _);
        }
    }
}

/// <summary>The latest overlay JPEG of a camera and the verdict it belongs to.</summary>
internal sealed record LiveFrame(string VerdictId, byte[] Jpeg, long At);
