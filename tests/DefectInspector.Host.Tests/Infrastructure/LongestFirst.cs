using Xunit.Abstractions;

[assembly: TestCollectionOrderer("DefectInspector.Host.Tests.Infrastructure.LongestFirst", "DefectInspector.Host.Tests")]

namespace DefectInspector.Host.Tests.Infrastructure;

/// <summary>
/// Marks a test class that takes minutes. The classes run side by side (xunit.runner.json); one that started last would
/// end the run alone, so these start first, the longest first, and the short classes fill the time beside them.
/// </summary>
/// <param name="seconds">About how long the class takes with nothing beside it; only the order matters.</param>
[AttributeUsage(AttributeTargets.Class)]
public sealed class LongRunningAttribute(int seconds) : Attribute
{
    public int Seconds { get; } = seconds;
}

/// <summary>Starts the <see cref="LongRunningAttribute"/> classes first, longest first, then the rest in xunit's usual order (by name).</summary>
public sealed class LongestFirst : ITestCollectionOrderer
{
    // A class without [Collection] is a collection of its own, without a definition: xunit names it after the class.
    private const string PerClass = "Test collection for ";

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderByDescending(Seconds).ThenBy(c => c.DisplayName, StringComparer.OrdinalIgnoreCase);

    private static int Seconds(ITestCollection collection) =>
        collection.DisplayName.StartsWith(PerClass, StringComparison.Ordinal)
        && typeof(LongestFirst).Assembly.GetType(collection.DisplayName[PerClass.Length..]) is { } type
        && type.GetCustomAttributes(typeof(LongRunningAttribute), inherit: false) is [LongRunningAttribute attribute]
            ? attribute.Seconds
            : 0;
}
