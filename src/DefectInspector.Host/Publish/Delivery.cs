using DefectInspector.Publish;

namespace DefectInspector.Host.Publish;

/// <summary>
/// Everything one decided frame publishes, in order (verdict, then event and snapshot), and what to do once the
/// broker has them all: tell the source the frame is done.
/// </summary>
internal sealed record Delivery(string Camera, string FrameRef, IReadOnlyList<OutgoingMessage> Messages, Action Completed);
