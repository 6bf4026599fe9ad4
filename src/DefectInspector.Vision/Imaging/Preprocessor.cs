using DefectInspector.Core.Imaging;
using OpenCvSharp;

namespace DefectInspector.Vision.Imaging;

/// <summary>Turns a frame into network input as described by a <see cref="Preprocessing"/> spec.</summary>
public static class Preprocessor
{
    /// <summary>Reads the file with <see cref="ImageReader"/> and preprocesses it.</summary>
    /// <exception cref="ImageReadException">The file cannot be read as an image.</exception>
    public static InputImage Preprocess(string path, Preprocessing spec)
    {
        using var frame = ImageReader.Read(path);
        return Preprocess(frame, spec);
    }

    /// <summary>
    /// <paramref name="frame"/> is 8-bit gray, BGR or BGRA (OpenCV's order). The whole frame is resized
    /// bilinearly on the 8-bit pixels (cv2.INTER_LINEAR), then each channel becomes (p/255 - Mean[c]) / Std[c],
    /// planar (CHW) in the spec's channel order.
    /// </summary>
    public static InputImage Preprocess(Mat frame, Preprocessing spec)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(spec);
        // The transform itself works on any size; the 32x32 minimum belongs to the network that loads the spec.
        spec.Validate(minimumSize: 1);
        CheckFrame(frame);

        using var ordered = ToChannelOrder(frame, spec.ChannelOrder);
        var source = ordered ?? frame;
        using var resized = source.Width == spec.Width && source.Height == spec.Height ? null : new Mat();
        if (resized is not null)
            Cv2.Resize(source, resized, new Size(spec.Width, spec.Height), 0, 0, InterpolationFlags.Linear);

        var chw = ToNormalisedChw(resized ?? source, spec);
        return new InputImage(chw, spec.Width, spec.Height, frame.Width, frame.Height);
    }

    private static void CheckFrame(Mat frame)
    {
        if (frame.Empty())
            throw new ArgumentException("frame is empty: expected an 8-bit gray, BGR or BGRA image", nameof(frame));
        if (frame.Depth() != MatType.CV_8U || frame.Channels() is not (1 or 3 or 4))
            throw new ArgumentException($"frame type {frame.Type()}: expected an 8-bit gray, BGR or BGRA image", nameof(frame));
    }

    /// <summary>A new 3-channel Mat in the wanted order, or null when the frame already is one.</summary>
    private static Mat? ToChannelOrder(Mat frame, ChannelOrder order)
    {
        ColorConversionCodes? code = (frame.Channels(), order) switch
        {
            (1, _) => ColorConversionCodes.GRAY2BGR,
            (3, ChannelOrder.Rgb) => ColorConversionCodes.BGR2RGB,
            (4, ChannelOrder.Rgb) => ColorConversionCodes.BGRA2RGB,
            (4, ChannelOrder.Bgr) => ColorConversionCodes.BGRA2BGR,
            _ => null,
        };
        if (code is null)
            return null;

        var converted = new Mat();
        Cv2.CvtColor(frame, converted, code.Value);
        return converted;
    }

    private static unsafe float[] ToNormalisedChw(Mat image, Preprocessing spec)
    {
        var width = image.Width;
        var height = image.Height;
        var plane = width * height;
        var chw = new float[3 * plane];

        // A lookup table per channel gives exactly (p/255 - mean)/std for all 256 byte values, so the hot loop is
        // a load and a store per sample, and the result does not depend on how the arithmetic is fused.
        var table = new float[3 * 256];
        for (var c = 0; c < 3; c++)
        {
            for (var p = 0; p < 256; p++)
                table[c * 256 + p] = (p / 255f - spec.Mean[c]) / spec.Std[c];
        }

        fixed (float* lut = table)
        fixed (float* output = chw)
        {
            for (var y = 0; y < height; y++)
            {
                // Row by row, because a frame that skipped conversion and resizing may be a non-continuous ROI.
                var row = (byte*)image.Ptr(y);
                var o0 = output + y * width;
                var o1 = o0 + plane;
                var o2 = o1 + plane;
                for (var x = 0; x < width; x++)
                {
                    var px = row + 3 * x;
                    o0[x] = lut[px[0]];
                    o1[x] = lut[256 + px[1]];
                    o2[x] = lut[512 + px[2]];
                }
            }
        }

        return chw;
    }
}
