using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace DefectInspector.Host.Tests.Infrastructure;

/// <summary>The real defect-inspector executable running `run` (or any command) as a child process.</summary>
internal sealed partial class DaemonProcess : IDisposable
{
    private readonly Process process;
    private readonly ConcurrentQueue<string> lines = new();

    private DaemonProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => process.Id;

    public string Output => string.Join('\n', lines);

    public bool HasExited => process.HasExited;

    public int ExitCode => process.ExitCode;

    public static DaemonProcess Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null) =>
        new(Process.Start(StartInfo([], args, environment))!);

    /// <summary>Runs a command to completion under GNU time: exit code, all output, and the process's peak resident memory.</summary>
    public static (int ExitCode, string Output, long PeakKilobytes) RunMeasured(IEnumerable<string> args)
    {
        const string Marker = "peak-rss-kb ";
        if (!File.Exists(GnuTime))
            throw new InvalidOperationException($"{GnuTime} is missing: the bad-input tests measure peak memory with it (apt-get install time)");
        using var p = new DaemonProcess(Process.Start(StartInfo([GnuTime, "-f", Marker + "%M"], args, null))!);
        if (!p.process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.process.Kill(entireProcessTree: true);
            throw new TimeoutException($"defect-inspector {string.Join(' ', args)} did not finish:\n{p.Output}");
        }
        p.process.WaitForExit();
        var lines = p.lines.ToList();
        string peak = lines.Last(l => l.StartsWith(Marker, StringComparison.Ordinal));
        return (p.process.ExitCode, string.Join('\n', lines.Where(l => l != peak)), long.Parse(peak[Marker.Length..], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The most resident memory the running daemon has used so far (VmHWM).</summary>
    public long PeakKilobytes =>
        long.Parse(File.ReadLines($"/proc/{process.Id}/status").Single(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))["VmHWM:".Length..^"kB".Length].Trim(),
            System.Globalization.CultureInfo.InvariantCulture);

    private const string GnuTime = "/usr/bin/time";

    private static ProcessStartInfo StartInfo(string[] wrapper, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(wrapper.Length > 0 ? wrapper[0] : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var w in wrapper.Skip(1)) start.ArgumentList.Add(w);
        if (wrapper.Length > 0) start.ArgumentList.Add("dotnet");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "defect-inspector.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        // A daemon under test must not pick up the developer's environment overrides or a systemd socket.
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("DEFECTINSPECTOR_", StringComparison.Ordinal) || k is "NOTIFY_SOCKET" or "WATCHDOG_USEC").ToList())
            start.Environment.Remove(key);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
            start.Environment[k] = v;
        return start;
    }

    /// <summary>Runs a command to completion: exit code and all output.</summary>
    public static (int ExitCode, string Output) Run(IEnumerable<string> args, TimeSpan? timeout = null)
    {
        using var p = Start(args);
        if (!p.process.WaitForExit(timeout ?? TimeSpan.FromMinutes(2)))
        {
            p.process.Kill(entireProcessTree: true);
            throw new TimeoutException($"defect-inspector {string.Join(' ', args)} did not finish:\n{p.Output}");
        }
        p.process.WaitForExit();
        return (p.process.ExitCode, p.Output);
    }

    /// <summary>SIGTERM, as systemd and Docker stop a service.</summary>
    public void Terminate() => Signal(15);

    /// <summary>SIGKILL: no chance to say goodbye (the broker's Last Will speaks instead).</summary>
    public void KillHard() => Signal(9);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"daemon did not exit within {timeout.TotalSeconds} s:\n{Output}");
        }
        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>Waits until a line of output contains <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (!lines.Any(l => l.Contains(text, StringComparison.Ordinal)))
        {
            if (process.HasExited) throw new InvalidOperationException($"daemon exited ({process.ExitCode}) before printing '{text}':\n{Output}");
            if (deadline.Elapsed > timeout) throw new TimeoutException($"daemon did not print '{text}' within {timeout.TotalSeconds} s:\n{Output}");
            await Task.Delay(100);
        }
    }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.Dispose();
    }

    private void Signal(int signal)
    {
        if (kill(process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}
