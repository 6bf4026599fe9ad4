using System.Diagnostics;
using System.Text;

namespace DefectInspector.Tests.Shared;

/// <summary>The ffmpeg command-line tool, which the stream tests use to play a camera.</summary>
public static class Ffmpeg
{
    /// <summary>Starts ffmpeg; what it writes to stderr is collected in <paramref name="errors"/>.</summary>
    public static Process Start(string arguments, StringBuilder errors)
    {
        var info = new ProcessStartInfo(Locate(), arguments)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var process = Process.Start(info) ?? throw new InvalidOperationException("test setup: ffmpeg did not start");
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (errors)
                    errors.AppendLine(e.Data);
            }
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    public static void Stop(Process? process)
    {
        if (process is null)
            return;
        using (process)
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
    }

    private static string Locate()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        var found = path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin")
            .Select(folder => Path.Combine(folder, "ffmpeg"))
            .FirstOrDefault(File.Exists);
        return found ?? throw new Xunit.Sdk.XunitException(
            "ffmpeg is not installed, and the stream tests need it to play a test camera: install it (Debian/Ubuntu: apt-get install ffmpeg; deploy/setup.sh does this)");
    }
}
