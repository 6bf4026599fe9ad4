using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using OpenCvSharp;

namespace DefectInspector.Vision.Capture;

/// <summary>What waiting for a decoded frame came to.</summary>
internal enum DecoderWait
{
    Frame,
    TimedOut,
    Ended,
}

/// <summary>
/// One ffmpeg process receiving a network stream and writing it as BMP frames to its stdout, with the thread that
/// reads them. Frames are queued two deep and the oldest is dropped, so a slow reader always gets a recent frame
/// and ffmpeg never stalls on a full pipe (which the camera would see as a dead client).
/// </summary>
internal sealed class FfmpegDecoder : IDisposable
{
    private const int QueuedFrames = 2;
    private const int KeptErrorLines = 8;

    private readonly Process process;
    private readonly BlockingCollection<(Mat Image, DateTimeOffset At)> frames = new(QueuedFrames);
    private readonly Queue<string> errors = new();
    private readonly Func<string, string> mask;
    private readonly Thread pump;
    private string? pumpProblem;

    private FfmpegDecoder(Process process, Func<string, string> mask)
    {
        this.process = process;
        this.mask = mask;
        this.process.ErrorDataReceived += (_, e) => KeepError(e.Data);
        this.process.BeginErrorReadLine();
        pump = new Thread(Pump) { IsBackground = true, Name = "ffmpeg frames" };
        pump.Start();
    }

    /// <summary>
    /// Starts ffmpeg and writes <paramref name="input"/> to its stdin. <paramref name="mask"/> removes credentials from
    /// what ffmpeg reports.
    /// </summary>
    /// <exception cref="FrameSourceException">ffmpeg cannot be started (most often: not installed).</exception>
    public static FfmpegDecoder Start(string ffmpeg, IEnumerable<string> arguments, string input, string source, Func<string, string> mask)
    {
        var start = new ProcessStartInfo(ffmpeg)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        try
        {
            var process = Process.Start(start) ?? throw new Win32Exception("no process was started");
            try
            {
                process.StandardInput.Write(input);
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // ffmpeg exited before reading it (a bad argument): WhyEnded reports what it said.
            }
            return new FfmpegDecoder(process, mask);
        }
        catch (Win32Exception e)
        {
            throw new FrameSourceException(
                $"camera {source}: ffmpeg ('{ffmpeg}') cannot be started ({e.Message}); network streams are decoded by ffmpeg: install it (apt-get install ffmpeg) or set FfmpegPath", e);
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the next frame, which the caller then owns.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellation"/> fired.</exception>
    public DecoderWait Take(TimeSpan timeout, CancellationToken cancellation, out Mat? image, out DateTimeOffset capturedAt)
    {
        if (frames.TryTake(out var frame, (int)timeout.TotalMilliseconds, cancellation))
        {
            (image, capturedAt) = frame;
            return DecoderWait.Frame;
        }

        (image, capturedAt) = (null, default);
        return frames.IsCompleted ? DecoderWait.Ended : DecoderWait.TimedOut;
    }

    /// <summary>Why frames stopped coming, in ffmpeg's words where it said something.</summary>
    public string WhyEnded()
    {
        process.WaitForExit(1000);
        string said;
        lock (errors)
            said = string.Join(" | ", errors);
        var exit = process.HasExited ? $"ffmpeg exited with code {process.ExitCode}" : "ffmpeg stopped sending frames";
        return string.Join(": ", new[] { exit, pumpProblem, said }.Where(s => !string.IsNullOrEmpty(s)));
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
                process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Exited in the meantime.
        }

        // Killing ffmpeg closes its stdout, which ends the pump.
        pump.Join(TimeSpan.FromSeconds(5));
        while (frames.TryTake(out var left))
            left.Image.Dispose();
        frames.Dispose();
        process.Dispose();
    }

    private void Pump()
    {
        var reader = new BmpFrameReader(process.StandardOutput.BaseStream);
        try
        {
            while (reader.Next() is { } image)
            {
                var frame = (image, DateTimeOffset.UtcNow);
                while (!frames.TryAdd(frame))
                {
                    if (frames.TryTake(out var oldest))
                        oldest.Image.Dispose();
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ObjectDisposedException)
        {
            pumpProblem = e.Message;
        }
        finally
        {
            frames.CompleteAdding();
        }
    }

    private void KeepError(string? line)
    {
        if (string.IsNullOrWhiteSpace(line))
            return;
        lock (errors)
        {
            errors.Enqueue(mask(line.Trim()));
            if (errors.Count > KeptErrorLines)
                errors.Dequeue();
        }
    }
}
