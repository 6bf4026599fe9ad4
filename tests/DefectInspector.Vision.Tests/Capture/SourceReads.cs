using System.Diagnostics;
using DefectInspector.Vision.Capture;

namespace DefectInspector.Vision.Tests.Capture;

/// <summary>Checks on how a source's Read behaves, shared by the tests of each kind of source.</summary>
internal static class SourceReads
{
    /// <summary>A read cancelled after <paramref name="after"/> must end in cancellation well before <paramref name="within"/>.</summary>
    public static void AssertCancelledPromptly(IFrameSource source, TimeSpan after, TimeSpan within)
    {
        using var cancel = new CancellationTokenSource(after);
        var clock = Stopwatch.StartNew();

        Assert.ThrowsAny<OperationCanceledException>(() => source.Read(cancel.Token));

        Assert.True(clock.Elapsed < within, $"a read cancelled after {after.TotalMilliseconds} ms returned after {clock.ElapsedMilliseconds} ms");
    }
}
