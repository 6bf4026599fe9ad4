using System.Runtime.InteropServices;

namespace DefectInspector.Inference.Model;

/// <summary>
/// libtorch 2.x asks NNPACK whether it initialised on every convolution and logs "Could not initialize NNPACK! Reason:
/// Unsupported hardware." each time it did not: thousands of journal lines a minute where NNPACK's CPU check fails
/// (cpuinfo's verdict, so on some AVX2 servers too). TorchSharp has no switch for it, so libtorch is asked once, with
/// its log level raised for that one question, and NNPACK is turned off where it is unavailable; convolutions take
/// the other CPU kernels, as they did before, without the warning.
/// </summary>
public static class Nnpack
{
    private const int LibTorchErrorLevel = 2;

    private static readonly Lazy<bool?> Switched = new(TurnOffIfUnavailable);

    /// <summary>True when NNPACK was unavailable and is now off, false when it works, null when libtorch could not be asked.</summary>
    public static bool? TurnOffWhereUnavailable() => Switched.Value;

    private static unsafe bool? TurnOffIfUnavailable()
    {
        // Both are loaded by TorchSharp already (libLibTorchSharp needs them), so these find the loaded copies.
        if (!NativeLibrary.TryLoad("libtorch_cpu.so", out var torch) || !NativeLibrary.TryLoad("libc10.so", out var c10)
            || !NativeLibrary.TryGetExport(torch, "_ZN2at4_ops17_nnpack_available4callEv", out var available)
            || !NativeLibrary.TryGetExport(torch, "_ZN2at13globalContextEv", out var context)
            || !NativeLibrary.TryGetExport(torch, "_ZN2at7Context20setUserEnabledNNPACKEb", out var setEnabled)
            || !NativeLibrary.TryGetExport(c10, "FLAGS_caffe2_log_level", out var logLevel))
            return null;

        var level = (int*)logLevel;
        int saved = *level;
        *level = LibTorchErrorLevel;
        bool works;
        try
        {
            works = ((delegate* unmanaged<byte>)available)() != 0;
        }
        finally
        {
            *level = saved;
        }
        if (works) return false;
        ((delegate* unmanaged<nint, byte, void>)setEnabled)(((delegate* unmanaged<nint>)context)(), 0);
        return true;
    }
}
