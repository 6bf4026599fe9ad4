using DefectInspector.Host.Hmi;
using DefectInspector.Publish;
using DefectInspector.Publish.Outbox;

namespace DefectInspector.Host.Publish;

/// <summary>
/// Everything one decided frame publishes, in order (verdict, then event and snapshot), how the outbox's cap may treat
/// it, and what to do once the outbox holds it: tell the source the frame is done. <see cref="Pending"/> is set for
/// sources that offer an unfinished frame again after a restart, so the frame keeps its id. <see cref="Review"/> is
/// the part for the HMI's review queue (NG and uncertain parts, when the HMI is on).
/// </summary>
internal sealed record Delivery(string Camera, string FrameRef, IReadOnlyList<OutgoingMessage> Messages, OutboxPriority Priority, PendingFrame? Pending,
    FlaggedPart? Review, Action Completed);
