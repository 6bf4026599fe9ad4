using System.Runtime.InteropServices;

namespace DefectInspector.Inference.Model;

/// <summary>How libtorch's OpenMP threads behave in a process that does more than inference.</summary>
public static partial class TorchThreading
{
    /// <summary>
    /// Makes idle OpenMP threads sleep instead of spinning, unless OMP_WAIT_POLICY is already set. libgomp spins for
    /// a while after each parallel region by default; in the daemon that steals the cores capture, rendering and
    /// publishing need (bench: pipeline frames/s +12% at batch 1 on 2 cores). Must run before libtorch loads, since
    /// libgomp reads its environment once; the native environment is set because .NET keeps its own copy.
    /// </summary>
    public static void PreferPassiveWaiting()
    {
        if (Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is { Length: > 0 }) return;
        if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
            _ = setenv("OMP_WAIT_POLICY", "PASSIVE", 0);
        Environment.SetEnvironmentVariable("OMP_WAIT_POLICY", "PASSIVE");
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
