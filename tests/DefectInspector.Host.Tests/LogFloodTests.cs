using DefectInspector.Host.Tests.Infrastructure;

namespace DefectInspector.Host.Tests;

/// <summary>Native libraries' per-call chatter that would flood a station's journal.</summary>
public sealed class LogFloodTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>
{
    [Fact]
    public void Libtorch_convolutions_print_no_NNPACK_warning()
    {
        string folder = fixture.NewFolder("nnpack");
        string image = Path.Combine(folder, PartImages.Write(folder, 1, prefix: "part").Single());

        // The torch engine runs every convolution through libtorch, which on CPUs without NNPACK support (this AMD EPYC
        // test machine among them) printed the warning once per convolution call.
        var (exit, output, _) = DaemonProcess.RunMeasured(["explain", image, "--model", fixture.DemoModelPath, "--engine", "torch"]);

        Assert.True(exit == 0, $"exit {exit}:\n{output}");
        Assert.DoesNotContain("NNPACK", output);
    }
}
