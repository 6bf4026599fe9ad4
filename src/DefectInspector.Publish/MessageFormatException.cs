namespace DefectInspector.Publish;

/// <summary>A received payload that is not the message its topic carries.</summary>
public sealed class MessageFormatException(string topic, string expectedShape, string problem, Exception? inner = null)
    : Exception($"bad payload on {topic}: {problem}; expected {expectedShape}", inner)
{
    public string Topic { get; } = topic;

    public string ExpectedShape { get; } = expectedShape;
}
