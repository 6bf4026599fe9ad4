using System.Collections.Concurrent;
using DefectInspector.Inference.Bundle;
using DefectInspector.Publish.Contracts;

namespace DefectInspector.Host.Health;

/// <summary>
/// What the pipeline's stages tell the health endpoints: the loops they run, the model served once the whole line has
/// started, and that it is stopping. Before <see cref="Started"/> the daemon is starting (loading the model, connecting).
/// </summary>
internal sealed class PipelineHealth
{
    private readonly ConcurrentDictionary<string, Task> loops = new(StringComparer.Ordinal);
    private volatile ServingModel? serving;
    private volatile bool stopping;

    public ModelReference? Model => serving?.Reference;

    /// <summary>The model being served, with the explainer it runs; null while starting.</summary>
    public ServingModel? Serving => serving;

    public bool IsStopping => stopping;

    /// <summary>The pipeline's long-running loops by name, once started; one that faults means the daemon is no longer alive.</summary>
    public IReadOnlyDictionary<string, Task> Loops => serving is null ? new Dictionary<string, Task>() : loops;

    public void Watch(string name, Task loop) => loops[name] = loop;

    public void Started(ServingModel model) => serving = model;

    public void Stopping() => stopping = true;
}

/// <summary>The loaded model as the daemon serves it: identity, bundle metadata, and the explainer method and layer in use.</summary>
internal sealed record ServingModel(ModelReference Reference, BundleMetadata Metadata, string Method, string Layer);
