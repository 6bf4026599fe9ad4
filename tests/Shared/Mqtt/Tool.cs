using System.Diagnostics;

namespace DefectInspector.Tests.Shared;

/// <summary>Runs a command-line tool the tests need (openssl, mosquitto_passwd, mount) and fails with its own words.</summary>
public static class Tool
{
    /// <param name="why">Said when the tool cannot start or fails: what the test needs it for and how to get it.</param>
    public static void Run(string command, string why, params string[] args)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{command} could not start ({e.Message}): {why}", e);
        }
        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            string errors = process.StandardError.ReadToEnd();
            output.Wait();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"{command} {string.Join(' ', args)} failed ({process.ExitCode}): {errors.Trim()} ({why})");
        }
    }
}
