using DefectInspector.Inference.Bundle;
using DefectInspector.Publish.Contracts;

namespace DefectInspector.Host.Health;

/// <summary>
/// What the pipeline service tells the health endpoints: the model it serves and the loops it runs once started,
/// and that it is stopping. Before <see cref="Started"/> the daemon is starting (loading the model, connecting).
/// </summary>
internal sealed class PipelineHealth
{
    private volatile Running? running;
    private volatile bool stopping;

    public ModelReference? Model => running?.Serving.Reference;

    /// <summary>The model being served, with the explainer it runs; null while starting.</summary>
    public ServingModel? Serving => running?.Serving;

    public bool IsStopping => stopping;

    /// <summary>The pipeline's long-running loops by name; one that faults means the daemon is no longer alive.</summary>
    public IReadOnlyDictionary<string, Task> Loops => running?.Loops ?? new Dictionary<string, Task>();

    public void Started(ServingModel serving, IReadOnlyDictionary<string, Task> loops) => running = new Running(serving, loops);

    public void Stopping() => stopping = true;

    private sealed record Running(ServingModel Serving, IReadOnlyDictionary<string, Task> Loops);
}

/// <summary>The loaded model as the daemon serves it: identity, bundle metadata, and the explainer method and layer in use.</summary>
internal sealed record ServingModel(ModelReference Reference, BundleMetadata Metadata, string Method, string Layer);
