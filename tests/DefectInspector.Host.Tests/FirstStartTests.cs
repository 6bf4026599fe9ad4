using DefectInspector.Host.Tests.Infrastructure;

namespace DefectInspector.Host.Tests;

public sealed class FirstStartTests(DaemonFixture fixture) : IClassFixture<DaemonFixture>
{
    [Fact]
    public void Run_with_no_configuration_trains_the_demo_model_and_publishes_verdicts_of_the_virtual_line_on_the_embedded_broker()
    {
        // The fixture ran `defect-inspector run` with only a fresh state folder and a free port for the embedded broker.
        var verdict = fixture.FirstStartVerdict;
        ContractSchemas.AssertValid("verdict", verdict.ToJsonString());
        Assert.Equal("virtual", (string?)verdict["camera"]);
        Assert.StartsWith("demo", (string?)verdict["model"]!["name"]);
        Assert.True(File.Exists(fixture.DemoModelPath), fixture.DemoModelPath);
        Assert.Contains("mosquitto_sub", fixture.FirstStartOutput);
        // The promise is 60 s on an idle machine (README, "Quick start"); tests share two cores with other
        // test assemblies, so this bound only catches a start that has gone badly wrong.
        Assert.True(fixture.FirstStartToFirstVerdict < TimeSpan.FromMinutes(3),
            $"first verdict after {fixture.FirstStartToFirstVerdict.TotalSeconds:0} s:\n{fixture.FirstStartOutput}");
    }
}
