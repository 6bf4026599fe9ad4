using DefectInspector.Host.Health;
using DefectInspector.Host.Inspect;
using DefectInspector.Host.Options;
using DefectInspector.Host.Publish;
using DefectInspector.Publish;
using DefectInspector.Publish.Contracts;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Hosting;

/// <summary>
/// The first stage to start: loads the model and describes the station with it (the retained config message and the
/// hash every verdict carries). Nothing is connected or captured until it has.
/// </summary>
internal sealed class ModelService(
    ModelLoader loader, LineModel line, StationIdentity station, Topics topics, IOptions<CamerasOptions> cameras, IOptions<ModelOptions> model,
    ILoggerFactory loggers) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellation)
    {
        // Loading (or first-start training of the demo model) is seconds of CPU work: keep it off the caller's thread.
        var parts = await Task.Run(() => loader.Load(cancellation), cancellation);
        var engine = parts.Engine;
        var metadata = engine.Metadata;
        var inspector = new FrameInspector(parts, loggers.CreateLogger<FrameInspector>());
        var reference = new ModelReference(metadata.Name, metadata.Version, engine.Sha256);
        var descriptor = StationDescriptor.Describe(station, engine, inspector.Method, inspector.Layer, cameras.Value.Cameras, model.Value.DefectCodes);
        var composer = new MessageComposer(topics, station, reference, metadata.Decision, inspector.Method, inspector.Layer, descriptor.ConfigHash, descriptor.DefectCodes);
        line.Set(engine, inspector, new ServingModel(reference, metadata, inspector.Method, inspector.Layer), descriptor, composer);
    }

    public Task StopAsync(CancellationToken cancellation) => Task.CompletedTask;
}
