using DefectInspector.Host.Hosting;
using DefectInspector.Host.Options;
using DefectInspector.Vision.Capture;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Capture;

/// <summary>
/// The configured cameras, each with its frame source and the queue its frames wait in for inspection. Creating a
/// source opens nothing (that is the capture loop's job), so the set exists before the line starts: inspection reads
/// the queues that capture fills.
/// </summary>
internal sealed class CameraSet
{
    public CameraSet(IOptions<CamerasOptions> cameras, IOptions<PipelineOptions> pipeline, IOptions<StorageOptions> storage, PipelineStats stats, ILoggerFactory loggers)
    {
        foreach (var camera in cameras.Value.Cameras)
        {
            var settings = new SourceSettings
            {
                Loop = camera.Loop,
                RealTime = camera.RealTime,
                VirtualFps = camera.VirtualFps,
                StateDirectory = Path.Combine(storage.Value.ResolvedPath, "sources"),
                ProcessedFolder = camera.ProcessedFolder.Length == 0 ? null : camera.ProcessedFolder,
            };
            var source = FrameSources.Create(camera.Source, settings, loggers.CreateLogger($"DefectInspector.Capture.{camera.Name}"));
            var queue = new CameraQueue(camera.Name, pipeline.Value.QueueCapacity, dropOldest: source.IsLive && !camera.IsTriggered, stats.For(camera.Name));
            all.Add(new Camera(camera, source, queue));
        }
    }

    private readonly List<Camera> all = [];

    public IReadOnlyList<Camera> All => all;

    public IReadOnlyList<CameraQueue> Queues => All.Select(c => c.Queue).ToList();

    internal sealed record Camera(CameraOptions Options, IFrameSource Source, CameraQueue Queue);
}
