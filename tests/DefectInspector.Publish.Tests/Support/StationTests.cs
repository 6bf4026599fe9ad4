namespace DefectInspector.Publish.Tests.Support;

/// <summary>Tests of one station, plant-a/line-3/st1, whose topics they use.</summary>
public abstract class StationTests
{
    protected static Topics Topics { get; } = Samples.Topics();
}
