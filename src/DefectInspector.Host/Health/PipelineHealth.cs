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

    public ModelReference? Model => running?.Model;

    public bool IsStopping => stopping;

    /// <summary>The pipeline's long-running loops by name; one that faults means the daemon is no longer alive.</summary>
    public IReadOnlyDictionary<string, Task> Loops => running?.Loops ?? new Dictionary<string, Task>();

    public void Started(ModelReference model, IReadOnlyDictionary<string, Task> loops) => running = new Running(model, loops);

    public void Stopping() => stopping = true;

    private sealed record Running(ModelReference Model, IReadOnlyDictionary<string, Task> Loops);
}
