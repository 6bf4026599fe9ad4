using OpenCvSharp;

namespace DefectInspector.Vision.Capture;

/// <summary>Reads frames from a VideoCapture in the one pixel layout the pipeline takes: BGR, 8-bit, 3 channels.</summary>
internal static class BgrFrames
{
    /// <summary>The next frame, or null when the capture delivered none (end of a file, a dropped stream).</summary>
    public static Mat? ReadNext(VideoCapture capture, string source)
    {
        var frame = new Mat();
        bool read;
        try
        {
            read = capture.Read(frame) && !frame.Empty();
        }
        catch (OpenCVException)
        {
            // Some backends throw instead of returning false when the stream breaks; it is the same event.
            read = false;
        }

        if (read)
            return ToBgr(frame, source);
        frame.Dispose();
        return null;
    }

    /// <summary>Converts <paramref name="frame"/>, which it takes over: it is returned as is or disposed.</summary>
    public static Mat ToBgr(Mat frame, string source)
    {
        if (frame.Type() == MatType.CV_8UC3)
            return frame;

        using (frame)
        {
            var code = frame.Channels() switch
            {
                1 => ColorConversionCodes.GRAY2BGR,
                3 => (ColorConversionCodes?)null,
                4 => ColorConversionCodes.BGRA2BGR,
                _ => throw new FrameSourceException($"{source}: frames have {frame.Channels()} channels; expected 1 (grey), 3 (BGR) or 4 (BGRA)"),
            };
            // 16-bit sensors exist; scaling keeps their full range visible instead of saturating it.
            var eightBit = new Mat();
            frame.ConvertTo(eightBit, MatType.CV_8U, frame.Depth() == MatType.CV_16U ? 1.0 / 256 : 1.0);
            if (code is null)
                return eightBit;
            using (eightBit)
            {
                var bgr = new Mat();
                Cv2.CvtColor(eightBit, bgr, code.Value);
                return bgr;
            }
        }
    }
}
