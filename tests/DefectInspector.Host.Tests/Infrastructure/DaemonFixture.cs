using System.Diagnostics;
using System.Text.Json.Nodes;

namespace DefectInspector.Host.Tests.Infrastructure;

/// <summary>
/// Shared by the daemon tests, which run one after another (two cores, one inference each): a real Mosquitto and
/// the built-in demo model, made the way a fresh install makes it: `defect-inspector run` with nothing configured
/// but a state folder, an embedded broker port, and the time until its first verdict.
/// </summary>
public sealed class DaemonFixture : IAsyncLifetime
{
    public string Root { get; } = Directory.CreateTempSubdirectory("di-daemon-").FullName;

    public MosquittoBroker Broker { get; private set; } = null!;

    /// <summary>The demo bundle the first-start daemon trained; the other tests load it with Model:Path.</summary>
    public string DemoModelPath { get; private set; } = "";

    /// <summary>From process start to the first verdict received, with the demo model trained on the way.</summary>
    public TimeSpan FirstStartToFirstVerdict { get; private set; }

    public JsonObject FirstStartVerdict { get; private set; } = null!;

    public string FirstStartOutput { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Broker = MosquittoBroker.Start();
        string state = Path.Combine(Root, "first-start");
        int port = MosquittoBroker.FreePort();
        var clock = Stopwatch.StartNew();
        // A free health port too: another daemon on this machine (a developer's, a parallel test run) may hold 8080.
        using var daemon = DaemonProcess.Start(["run", $"--Storage:Path={state}", $"--Mqtt:Port={port}", $"--Health:Url=http://127.0.0.1:{MosquittoBroker.FreePort()}",
            $"--Hmi:Url=http://127.0.0.1:{MosquittoBroker.FreePort()}"]);
        await using var subscriber = await ConnectWhenUpAsync(daemon, port, TimeSpan.FromMinutes(4));
        var verdict = await subscriber.WaitForAsync(m => m.Topic.Contains("/verdict/", StringComparison.Ordinal), TimeSpan.FromMinutes(2), "first verdict");
        FirstStartToFirstVerdict = clock.Elapsed;
        FirstStartVerdict = JsonNode.Parse(verdict.Text)!.AsObject();
        daemon.Terminate();
        await daemon.WaitForExitAsync(TimeSpan.FromSeconds(60));
        FirstStartOutput = daemon.Output;
        DemoModelPath = Directory.GetFiles(Path.Combine(state, "models"), "demo-v*.dimodel").Single();
    }

    public Task DisposeAsync()
    {
        Broker.Dispose();
        Directory.Delete(Root, recursive: true);
        return Task.CompletedTask;
    }

    public string NewFolder(string name) => Directory.CreateDirectory(Path.Combine(Root, $"{name}-{Guid.NewGuid():N}")).FullName;

    /// <summary>
    /// The arguments every test daemon shares: the fixture's broker and demo model, its own state folder, and no health
    /// endpoints and no HMI (several daemons run at once); a test that asks them passes --Health:Url=... or --Hmi:Url=...
    /// in <paramref name="more"/>.
    /// </summary>
    public List<string> RunArgs(string state, params string[] more) => RunArgs(Broker.Port, state, more);

    /// <summary><see cref="RunArgs(string, string[])"/> for a broker of the test's own on <paramref name="port"/>.</summary>
    public List<string> RunArgs(int port, string state, params string[] more) =>
    [
        "run",
        $"--Mqtt:Host=127.0.0.1",
        $"--Mqtt:Port={port}",
        $"--Model:Path={DemoModelPath}",
        $"--Storage:Path={state}",
        "--Pipeline:StatsIntervalSeconds=1",
        "--Health:Url=",
        "--Hmi:Url=",
        .. more,
    ];

    /// <summary>Subscribes to everything once the daemon's embedded broker accepts connections.</summary>
    private static async Task<TestSubscriber> ConnectWhenUpAsync(DaemonProcess daemon, int port, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (daemon.HasExited) throw new InvalidOperationException($"daemon exited ({daemon.ExitCode}):\n{daemon.Output}");
            try
            {
                return await TestSubscriber.ConnectAsync(port, ["#"]);
            }
            catch (Exception) when (clock.Elapsed < timeout)
            {
                await Task.Delay(250);
            }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class DaemonCollection : ICollectionFixture<DaemonFixture>
{
    public const string Name = "daemon";
}
