using DefectInspector.Host.Tests.Infrastructure;

namespace DefectInspector.Host.Tests;

/// <summary>
/// `bench --soak`: two minutes by design, and alone: it judges its own process's memory slope, and with three daemon
/// tests beside it on two cores its managed heap once climbed 100 MB a minute where alone it stays flat.
/// </summary>
[Collection(Alone)]
public sealed class SoakTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>
{
    private const string Alone = "soak, alone";

    [Fact]
    public void Bench_soak_samples_the_daemon_pipeline_and_prints_the_growth_slope()
    {
        // One measured minute swings RSS by several percent (malloc, the GC, the trim's 10 s rhythm), so 5% would fail
        // at random; a leak of one input batch per inference grows RSS by about 60% a minute here, far beyond 15%.
        var (exit, output) = DaemonProcess.Run(["bench", "--soak", "2", "--max-growth-percent", "15", "--model", fixture.DemoModelPath], TimeSpan.FromMinutes(4));
        Assert.True(exit == 0, output);
        var lines = output.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("slope (minute 1 to 2", StringComparison.Ordinal) && l.Contains("RSS ") && l.Contains("MB/min"));
        var samples = lines.Single(l => l.StartsWith("samples: ", StringComparison.Ordinal));
        Assert.True(int.Parse(samples.Split(' ')[1]) > 10, samples);
        Assert.Contains(lines, l => l.StartsWith("result: pass", StringComparison.Ordinal));
    }
}

[CollectionDefinition("soak, alone", DisableParallelization = true)]
public sealed class SoakAlone;
