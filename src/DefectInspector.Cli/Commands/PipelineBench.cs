using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using DefectInspector.Core.Statistics;
using DefectInspector.Host.Hosting;
using DefectInspector.Inference.Bundle;
using DefectInspector.Inference.Engine;
using DefectInspector.Inference.Export;
using DefectInspector.Inference.Model;
using Microsoft.Extensions.Hosting;
using MQTTnet;
using MQTTnet.Formatter;
using OpenCvSharp;

namespace DefectInspector.Cli.Commands;

/// <summary>
/// The whole daemon in this process, fed from a video file, measured where the line sees it: verdicts arriving at
/// an MQTT subscriber. Throughput runs the file as fast as it goes; latency runs it at half the measured throughput, so
/// queues stay short and the figure is the pipeline's own cost, not waiting behind a backlog.
/// </summary>
internal sealed class PipelineBench(InspectionModel model, string engine, string work)
{
    /// <param name="Stages">p50 and p99 of each stage's milliseconds over the measured verdicts (their timingsMs), and of
    /// "delivery": from the end of rendering to the subscriber (outbox, dispatcher, broker).</param>
    public sealed record Result(string Name, int Batch, double Fps, double LatencyP50Ms, double LatencyP99Ms, int Verdicts,
        IReadOnlyDictionary<string, (double P50, double P99)> Stages);

    /// <summary>Frames as fast as the pipeline takes them, micro-batched up to <paramref name="batch"/>.</summary>
    public Task<Result> ThroughputAsync(int batch, TimeSpan measure, CancellationToken cancellation) =>
        RunAsync($"pipeline, batch {batch}, file as fast as it goes", batch, realTime: false, fps: 25, measure, cancellation);

    /// <summary>Frames at <paramref name="fps"/>, one at a time.</summary>
    public Task<Result> LatencyAsync(double fps, TimeSpan measure, CancellationToken cancellation) =>
        RunAsync($"pipeline, batch 1, file at {fps:0.#} fps", 1, realTime: true, fps, measure, cancellation);

    private async Task<Result> RunAsync(string name, int batch, bool realTime, double fps, TimeSpan measure, CancellationToken cancellation)
    {
        await using var line = await StartAsync(batch, realTime, fps, [], keepArrivals: true, cancellation);
        // The first seconds carry libtorch's warm-up and the queues filling: measure after them.
        await Task.Delay(TimeSpan.FromSeconds(8), cancellation);
        long start = Stopwatch.GetTimestamp();
        await Task.Delay(measure, cancellation);
        long end = Stopwatch.GetTimestamp();
        var window = line.Arrivals.Where(a => a.At >= start && a.At < end).ToList();
        var latencies = window.Select(a => (a.ReceivedAt - a.CapturedAt).TotalMilliseconds).Order().ToArray();
        var delivery = window.Select(a => KeyValuePair.Create("delivery",
            (a.ReceivedAt - a.CapturedAt).TotalMilliseconds - a.Timings.FirstOrDefault(t => t.Key == "total").Value));
        var stages = window.SelectMany(a => a.Timings).Concat(delivery).GroupBy(t => t.Key).ToDictionary(g => g.Key, g =>
        {
            var sorted = g.Select(t => t.Value).Order().ToArray();
            return (Percentiles.OfSorted(sorted, 0.5), Percentiles.OfSorted(sorted, 0.99));
        });
        return new Result(name, batch, window.Count / Stopwatch.GetElapsedTime(start, end).TotalSeconds,
            Percentiles.OfSorted(latencies, 0.5), Percentiles.OfSorted(latencies, 0.99), window.Count, stages);
    }

    /// <summary>
    /// Starts the daemon in this process on a looping video file of parts, micro-batching up to <paramref name="batch"/>,
    /// with a subscriber counting its verdicts (and keeping each arrival's timestamps when <paramref name="keepArrivals"/>).
    /// <paramref name="overrides"/> (--Section:Key=value) come last and win.
    /// </summary>
    public async Task<RunningLine> StartAsync(int batch, bool realTime, double fps, IReadOnlyList<string> overrides, bool keepArrivals, CancellationToken cancellation)
    {
        string bundle = Path.Combine(work, "bench.dimodel");
        if (!File.Exists(bundle))
        {
            ModelBundle.Save(bundle, model.Network, model.Metadata);
            // As a plant would run it: the graph exported beside the bundle (the identity it carries is the bundle file's),
            // so the onnx daemon never loads libtorch.
            if (engine == Engines.Onnx)
                OnnxExport.WriteFile(Path.ChangeExtension(bundle, InferenceEngines.OnnxExtension), OnnxExport.ToBytes(model.Network, model.Metadata, ModelBundle.Sha256(bundle)));
        }
        string video = WriteVideo(Path.Combine(work, $"line-{fps:0.###}.avi"), model.Metadata.Preprocessing.Width * 2, model.Metadata.Preprocessing.Height * 2, fps);
        int port = FreePort();
        string prefix = "bench";
        List<string> settings =
        [
            $"--Mqtt:Port={port}", $"--Mqtt:TopicPrefix={prefix}", $"--Storage:Path={Path.Combine(work, "state")}",
            $"--Model:Path={bundle}", $"--Model:Engine={engine}", $"--Model:Device={model.Device.type.ToString().ToLowerInvariant()}",
            "--Cameras:0:Name=bench", $"--Cameras:0:Source=file:{video}", "--Cameras:0:Loop=true", $"--Cameras:0:RealTime={realTime}",
            $"--Pipeline:MaxBatchSize={batch}", "--Pipeline:StatsIntervalSeconds=0",
            // A daemon running on this machine may hold the default health and HMI ports.
            "--Health:Url=", "--Hmi:Url=",
            // The bench prints its table on stdout; the daemon's warnings go to stderr.
            "--Logging:LogLevel:Default=Warning", "--Logging:Console:LogToStandardErrorThreshold=Trace",
            .. overrides,
        ];
        var host = DaemonHost.Build(null, settings);
        var line = new RunningLine(host, keepArrivals);
        try
        {
            await host.StartAsync(cancellation);
            await line.SubscribeAsync(port, $"{prefix}/+/+/+/verdict/+", cancellation);
            return line;
        }
        catch
        {
            await line.DisposeAsync();
            throw;
        }
    }

    /// <summary>The daemon of <see cref="StartAsync"/> and its subscriber; disposing stops both.</summary>
    internal sealed class RunningLine(IHost host, bool keepArrivals) : IAsyncDisposable
    {
        private readonly IMqttClient subscriber = new MqttClientFactory().CreateMqttClient();
        private long verdicts;

        public ConcurrentQueue<(long At, DateTimeOffset CapturedAt, DateTimeOffset ReceivedAt, KeyValuePair<string, double>[] Timings)> Arrivals { get; } = new();

        public long Verdicts => Interlocked.Read(ref verdicts);

        public IServiceProvider Services => host.Services;

        public async Task SubscribeAsync(int port, string filter, CancellationToken cancellation)
        {
            subscriber.ApplicationMessageReceivedAsync += e =>
            {
                Interlocked.Increment(ref verdicts);
                if (!keepArrivals) return Task.CompletedTask;
                var received = DateTimeOffset.UtcNow;
                using var json = JsonDocument.Parse(e.ApplicationMessage.Payload);
                var timings = json.RootElement.TryGetProperty("timingsMs", out var t)
                    ? t.EnumerateObject().Select(p => KeyValuePair.Create(p.Name, p.Value.GetDouble())).ToArray()
                    : [];
                Arrivals.Enqueue((Stopwatch.GetTimestamp(), json.RootElement.GetProperty("capturedAt").GetDateTimeOffset(), received, timings));
                return Task.CompletedTask;
            };
            await subscriber.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithProtocolVersion(MqttProtocolVersion.V500).Build(), cancellation);
            await subscriber.SubscribeAsync(filter, cancellationToken: cancellation);
        }

        public async ValueTask DisposeAsync()
        {
            if (subscriber.IsConnected) await subscriber.DisconnectAsync(cancellationToken: CancellationToken.None);
            subscriber.Dispose();
            await host.StopAsync(CancellationToken.None);
            host.Dispose();
        }
    }

    private static string WriteVideo(string path, int width, int height, double fps)
    {
        if (File.Exists(path)) return path;
        using var writer = new VideoWriter(path, FourCC.MJPG, fps, new OpenCvSharp.Size(width, height));
        if (!writer.IsOpened()) throw new IOException($"{path}: cannot write an MJPG video for the pipeline bench");
        for (int i = 0; i < 50; i++)
        {
            using var frame = BenchFrames.Part(width, height, seed: i);
            writer.Write(frame);
        }
        return path;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
