using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace DefectInspector.Tests.Shared;

/// <summary>
/// A real Mosquitto broker for one test: its own folder, generated config and a free loopback port. Start, stop
/// (SIGTERM: with persistence on it saves sessions and retained messages) and restart on the same port. Needs
/// /usr/sbin/mosquitto (Debian package mosquitto; deploy/setup.sh installs it).
/// </summary>
public sealed class MosquittoBroker : IDisposable
{
    public const string Executable = "/usr/sbin/mosquitto";

    private readonly string config;
    private readonly StringBuilder output = new();
    private Process? process;

    private MosquittoBroker(int port, string directory, string config)
    {
        Port = port;
        Directory = directory;
        this.config = config;
    }

    public int Port { get; }

    /// <summary>The broker's own folder: config, persistence, and any files a test puts there (certificates, ACL).</summary>
    public string Directory { get; }

    public bool IsRunning => process is { HasExited: false };

    /// <summary>What Mosquitto printed so far (its log goes to stderr).</summary>
    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    /// <summary>
    /// Starts Mosquitto listening on 127.0.0.1 only, anonymous clients allowed. <paramref name="extraConfig"/> is
    /// appended to the generated config (or replaces the listener lines when <paramref name="listener"/> is given);
    /// {dir} in either stands for <see cref="Directory"/>. <paramref name="prepare"/> runs before the broker starts,
    /// with the folder, to write the files the config names. <paramref name="port"/> defaults to a free one.
    /// </summary>
    public static MosquittoBroker Start(string extraConfig = "", bool persistence = false, string? listener = null, Action<string>? prepare = null, int? port = null)
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException(
                $"Mosquitto is not installed ({Executable} is missing): the MQTT tests run against a real broker. " +
                "Install it with `apt-get install -y mosquitto` (deploy/setup.sh does).");
        }

        int listenPort = port ?? FreePort();
        string directory = Path.Combine(Path.GetTempPath(), $"mosquitto-test-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        prepare?.Invoke(directory);
        string config = $"""
            {(listener ?? $"listener {listenPort} 127.0.0.1\nallow_anonymous true").Replace("{port}", listenPort.ToString())}
            persistence {(persistence ? "true" : "false")}
            persistence_location {directory}/
            autosave_interval 0
            log_dest stderr
            log_type error
            log_type warning
            log_type notice
            log_type information
            user {Environment.UserName}
            {extraConfig}
            """.Replace("{dir}", directory);
        var broker = new MosquittoBroker(listenPort, directory, config);
        File.WriteAllText(Path.Combine(directory, "mosquitto.conf"), config);
        broker.Launch();
        return broker;
    }

    /// <summary>A loopback TCP port that nothing listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>SIGTERM, as a service manager stops it: clients see the connection close; persistence is saved.</summary>
    public void Stop()
    {
        if (this.process is not { HasExited: false } process)
        {
            return;
        }

        _ = Kill(process.Id, 15);
        if (!process.WaitForExit(5000))
        {
            process.Kill();
            process.WaitForExit();
        }

        process.Dispose();
        this.process = null;
    }

    public void Restart()
    {
        Stop();
        Launch();
    }

    public void Dispose()
    {
        if (this.process is { HasExited: false } process)
        {
            process.Kill();
            process.WaitForExit();
        }

        this.process?.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Launch()
    {
        var start = new ProcessStartInfo(Executable)
        {
            ArgumentList = { "-c", Path.Combine(Directory, "mosquitto.conf") },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {Executable}");
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        this.process = process;

        // Every listener in the config, not only the first: a test that connects to a second listener (plain beside
        // TLS) was refused when it raced the broker opening it.
        var ports = System.Text.RegularExpressions.Regex.Matches(config, @"^\s*listener\s+(\d+)", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
            .Append(Port)
            .Distinct()
            .ToList();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (process.HasExited)
            {
                process.WaitForExit();
                throw new InvalidOperationException($"Mosquitto exited with code {process.ExitCode} at start.\nConfig:\n{config}\nOutput:\n{Output}");
            }

            if (ports.All(p => Output.Contains($"Opening ipv4 listen socket on port {p}", StringComparison.Ordinal) && CanConnect(p)))
            {
                return;
            }

            Thread.Sleep(20);
        }

        throw new TimeoutException($"Mosquitto did not listen on port(s) {string.Join(", ", ports)} within 10 s.\nOutput:\n{Output}");
    }

    private static bool CanConnect(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
