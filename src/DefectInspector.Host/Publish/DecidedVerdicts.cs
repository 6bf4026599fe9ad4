using DefectInspector.Publish.Contracts;

namespace DefectInspector.Host.Publish;

/// <summary>
/// Every verdict as it is decided (normal or error), for those beside the MQTT contract that follow the line: the
/// Sparkplug edge node. Handlers run on the pipeline's thread: keep them short.
/// </summary>
internal sealed class DecidedVerdicts
{
    public event Action<VerdictMessage>? Decided;

    public void Publish(VerdictMessage verdict) => Decided?.Invoke(verdict);
}
