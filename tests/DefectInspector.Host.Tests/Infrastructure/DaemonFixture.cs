using System.Diagnostics;
using System.Text.Json.Nodes;

namespace DefectInspector.Host.Tests.Infrastructure;

/// <summary>
/// What every daemon test class shares: a real Mosquitto and the built-in demo model, made the way a fresh install
/// makes it: `defect-inspector run` with nothing configured but a state folder, an embedded broker port, and the time
/// until its first verdict. Made once per test run, not once per class: the classes run side by side
/// (xunit.runner.json), and training the demo model is the slowest minute of the suite. Each test's daemon has its
/// own state folder and topic prefix, so tests on the one broker do not see each other's messages.
/// </summary>
public sealed class DaemonFixture : IAsyncLifetime
{
    private static readonly Lazy<Task<DemoLine>> Shared = new(DemoLine.StartAsync);

    private DemoLine? line;

    public string Root => Line.Root.Path;

    public MosquittoBroker Broker => Line.Broker;

    /// <summary>The demo bundle the first-start daemon trained; the other tests load it with Model:Path.</summary>
    public string DemoModelPath => Line.DemoModelPath;

    /// <summary>From process start to the first verdict received, with the demo model trained on the way.</summary>
    public TimeSpan FirstStartToFirstVerdict => Line.FirstStartToFirstVerdict;

    public JsonObject FirstStartVerdict => Line.FirstStartVerdict;

    public string FirstStartOutput => Line.FirstStartOutput;

    private DemoLine Line => line ?? throw new InvalidOperationException("the daemon fixture was used before xunit initialised it");

    public async Task InitializeAsync() => line = await Shared.Value;

    /// <summary>Nothing: the shared line lives until the test process exits (xunit 2 has no assembly fixture).</summary>
    public Task DisposeAsync() => Task.CompletedTask;

    public string NewFolder(string name) => Directory.CreateDirectory(Path.Combine(Root, $"{name}-{Guid.NewGuid():N}")).FullName;

    /// <summary>
    /// The arguments every test daemon shares: the fixture's broker and demo model, its own state folder, and no health
    /// endpoints and no HMI (several daemons run at once); a test that asks them passes --Health:Url=... or --Hmi:Url=...
    /// in <paramref name="more"/>. Each daemon gets an MQTT client id of its own: the derived one names site, line and
    /// station, which tests side by side on this broker share, and two clients with one id take the session from each
    /// other for as long as both run. A test that checks the derived id passes --Mqtt:ClientId= (later wins).
    /// </summary>
    public List<string> RunArgs(string state, params string[] more) => RunArgs(Broker.Port, state, [$"--Mqtt:ClientId=test-{Guid.NewGuid():N}", .. more]);

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

    /// <summary>The broker, the first start and the model it trained: one per test process.</summary>
    private sealed class DemoLine
    {
        public TempFolder Root { get; } = new("di-daemon-");

        public MosquittoBroker Broker { get; private set; } = null!;

        public string DemoModelPath { get; private set; } = "";

        public TimeSpan FirstStartToFirstVerdict { get; private set; }

        public JsonObject FirstStartVerdict { get; private set; } = null!;

        public string FirstStartOutput { get; private set; } = "";

        public static async Task<DemoLine> StartAsync()
        {
            var line = new DemoLine();
            AppDomain.CurrentDomain.ProcessExit += (_, _) => line.Stop();
            try
            {
                await line.FirstStartAsync();
                return line;
            }
            catch
            {
                line.Stop();
                throw;
            }
        }

        private async Task FirstStartAsync()
        {
            Broker = MosquittoBroker.Start();
            string state = Path.Combine(Root.Path, "first-start");
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

        private void Stop()
        {
            // Null when the start failed before the broker was up.
            Broker?.Dispose();
            Root.Dispose();
        }
    }

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
