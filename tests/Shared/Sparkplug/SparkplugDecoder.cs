using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DefectInspector.Tests.Shared;

/// <summary>
/// The decoder package (decoder/: Eclipse Tahu's sparkplug-payload on MQTT.js), installed with <c>npm ci</c> once per
/// test run and kept in decoder/node_modules until package-lock.json changes. Needs node and npm (deploy/setup.sh
/// installs them) and the npm registry the first time.
/// </summary>
public sealed class SparkplugDecoderPackage
{
    public SparkplugDecoderPackage()
    {
        Folder = FindFolder();
        string stamp = Path.Combine(Folder, "node_modules", ".installed-lock-sha256");
        string lockHash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(Folder, "package-lock.json"))));
        // Two test assemblies may install at once (dotnet test runs them side by side): one installs, the other waits.
        using var installing = InstallLock();
        if (File.Exists(stamp) && File.ReadAllText(stamp) == lockHash)
        {
            return;
        }

        Tool.Run("npm", "the Sparkplug tests decode with the npm packages sparkplug-payload and mqtt (apt-get install -y nodejs npm; deploy/setup.sh does)",
            "ci", "--prefix", Folder, "--ignore-scripts", "--no-audit", "--no-fund");
        File.WriteAllText(stamp, lockHash);
    }

    public string Folder { get; }

    private FileStream InstallLock()
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return new FileStream(Path.Combine(Folder, ".install.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (clock.Elapsed < TimeSpan.FromMinutes(5))
            {
                Thread.Sleep(200);
            }
        }
    }

    /// <summary>The source folder (not a copy in bin/), so node_modules is installed once for every build.</summary>
    private static string FindFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "Shared", "Sparkplug", "decoder");
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"no tests/Shared/Sparkplug/decoder above {AppContext.BaseDirectory}");
    }
}

[CollectionDefinition(Name)]
public sealed class SparkplugCollection : ICollectionFixture<SparkplugDecoderPackage>
{
    public const string Name = "sparkplug";
}

/// <summary>One decoded message: its topic and the payload as sparkplug-payload decoded it.</summary>
public sealed record SparkplugMessage(string Topic, JsonObject Payload)
{
    /// <summary>The message type: NBIRTH, NDEATH, DBIRTH, DDATA...</summary>
    public string Type => Topic.Split('/')[2];

    public string? Device => Topic.Split('/') is { Length: 5 } levels ? levels[4] : null;

    public long? Seq => Payload["seq"]?.GetValue<long>();

    public long? Timestamp => Payload["timestamp"]?.GetValue<long>();

    public IReadOnlyList<JsonObject> Metrics => Payload["metrics"]?.AsArray().Select(m => m!.AsObject()).ToList() ?? [];

    /// <summary>The metric named <paramref name="name"/>; fails the test when there is none.</summary>
    public JsonObject Metric(string name) =>
        Metrics.SingleOrDefault(m => (string?)m["name"] == name) ?? throw new Xunit.Sdk.XunitException($"{Topic} has no metric \"{name}\": {Payload.ToJsonString()}");

    public override string ToString() => $"{Topic} {Payload.ToJsonString()}";
}

/// <summary>
/// <c>node listen.js</c> as a child process: every Sparkplug message the broker delivers, decoded by Tahu's JavaScript
/// library, in arrival order; and commands (NCMD, DCMD) encoded by the same library.
/// </summary>
public sealed class SparkplugDecoder : IDisposable
{
    private readonly Process process;
    private readonly List<JsonObject> lines = [];
    private readonly List<string> errors = [];
    private readonly SemaphoreSlim arrived = new(0);

    private SparkplugDecoder(Process process)
    {
        this.process = process;
        this.process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (lines)
            {
                lines.Add(JsonNode.Parse(e.Data)!.AsObject());
            }

            arrived.Release();
        };
        this.process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (errors)
                {
                    errors.Add(e.Data);
                }
            }
        };
        this.process.BeginOutputReadLine();
        this.process.BeginErrorReadLine();
    }

    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    /// <summary>All decoded messages so far, in arrival order.</summary>
    public IReadOnlyList<SparkplugMessage> Messages
    {
        get
        {
            lock (lines)
            {
                return [.. lines.Where(l => l["event"] is null).Select(ToMessage)];
            }
        }
    }

    /// <summary>Starts the decoder and waits for its subscription to spBv1.0/#.</summary>
    public static async Task<SparkplugDecoder> StartAsync(SparkplugDecoderPackage package, int port)
    {
        var start = new ProcessStartInfo("node")
        {
            ArgumentList = { Path.Combine(package.Folder, "listen.js"), port.ToString(System.Globalization.CultureInfo.InvariantCulture), $"sparkplug-decoder-{Guid.NewGuid():N}" },
            WorkingDirectory = package.Folder,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var decoder = new SparkplugDecoder(Process.Start(start) ?? throw new InvalidOperationException("could not start node"));
        await decoder.WaitForEventAsync("subscribed", 1);
        return decoder;
    }

    /// <summary>Waits until the messages so far satisfy <paramref name="done"/>, and returns them.</summary>
    public async Task<IReadOnlyList<SparkplugMessage>> WaitUntilAsync(Func<IReadOnlyList<SparkplugMessage>, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var messages = Messages;
            if (done(messages))
            {
                return messages;
            }

            if (clock.Elapsed > Wait || process.HasExited)
            {
                throw new Xunit.Sdk.XunitException(
                    $"waited {clock.Elapsed.TotalSeconds:0} s for {what}; decoder {(process.HasExited ? "exited" : "running")}, received:\n" +
                    string.Join('\n', messages) + $"\nstderr: {string.Join('\n', Errors)}");
            }

            await arrived.WaitAsync(TimeSpan.FromMilliseconds(200));
        }
    }

    /// <summary>Waits for the <paramref name="count"/>th message of type <paramref name="type"/> (device too, if given) and returns it.</summary>
    public async Task<SparkplugMessage> WaitForAsync(string type, int count = 1, string? device = null)
    {
        var messages = await WaitUntilAsync(ms => Of(ms, type, device).Count >= count, $"{type} #{count}{(device is null ? "" : $" of {device}")}");
        return Of(messages, type, device)[count - 1];
    }

    /// <summary>Encodes <paramref name="metrics"/> (objects with name, type, value) as a Sparkplug payload and publishes it.</summary>
    public async Task SendAsync(string topic, params object[] metrics)
    {
        int sent = Events("sent");
        await process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(new { topic, metrics }));
        await process.StandardInput.FlushAsync();
        await WaitForEventAsync("sent", sent + 1);
    }

    public void Dispose()
    {
        if (!process.HasExited)
        {
            process.Kill();
            process.WaitForExit();
        }

        process.Dispose();
        arrived.Dispose();
    }

    public static IReadOnlyList<SparkplugMessage> Of(IEnumerable<SparkplugMessage> messages, string type, string? device = null) =>
        [.. messages.Where(m => m.Type == type && (device is null || m.Device == device))];

    private IEnumerable<string> Errors
    {
        get
        {
            lock (errors)
            {
                lock (lines)
                {
                    return [.. errors, .. lines.Where(l => l["error"] is not null).Select(l => l.ToJsonString())];
                }
            }
        }
    }

    private int Events(string name)
    {
        lock (lines)
        {
            return lines.Count(l => (string?)l["event"] == name);
        }
    }

    private async Task WaitForEventAsync(string name, int count)
    {
        var clock = Stopwatch.StartNew();
        while (Events(name) < count)
        {
            if (clock.Elapsed > Wait || process.HasExited)
            {
                throw new Xunit.Sdk.XunitException($"the decoder did not report \"{name}\" within {Wait.TotalSeconds:0} s: {string.Join('\n', Errors)}");
            }

            await arrived.WaitAsync(TimeSpan.FromMilliseconds(200));
        }
    }

    private static SparkplugMessage ToMessage(JsonObject line) =>
        new((string)line["topic"]!, line["payload"]?.AsObject() ?? throw new Xunit.Sdk.XunitException($"undecodable message: {line.ToJsonString()}"));
}
