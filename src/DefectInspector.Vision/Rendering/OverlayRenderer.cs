using System.Globalization;
using DefectInspector.Core.Explain;
using DefectInspector.Core.Regions;
using DefectInspector.Vision.Imaging;
using OpenCvSharp;

namespace DefectInspector.Vision.Rendering;

/// <summary>Draws the heat, the regions and a header onto a frame for operators, as an encoded image.</summary>
public static class OverlayRenderer
{
    private static readonly Scalar BoxColour = new(255, 255, 255);
    private static readonly Scalar LabelBackground = new(0, 0, 0);
    private static readonly Scalar TruthColour = new(0, 255, 0);
    private static readonly Scalar PeakColour = new(255, 0, 255);
    private const HersheyFonts Font = HersheyFonts.HersheySimplex;

    /// <summary>
    /// <paramref name="frame"/> is the 8-bit gray, BGR or BGRA frame the regions were found on;
    /// <paramref name="normalisedHeat"/> is in [0,1] at any resolution (stretched over the frame);
    /// <paramref name="regions"/> are in frame pixels; <paramref name="truth"/>, in evaluations, adds the defect's outline
    /// and the map's peak. Returns the encoded image bytes.
    /// </summary>
    public static byte[] Render(Mat frame, FloatMap normalisedHeat, IReadOnlyList<Region> regions, string header, OverlayOptions? options = null, TruthMarks? truth = null)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(regions);
        options ??= new OverlayOptions();
        options.Validate();
        if (frame.Empty() || frame.Depth() != MatType.CV_8U || frame.Channels() is not (1 or 3 or 4))
            throw new ArgumentException($"frame type {frame.Type()}: expected a non-empty 8-bit gray, BGR or BGRA image", nameof(frame));

        // Drawing happens at output size, so boxes stay 2 px and text stays legible however large the camera frame.
        var scale = options.MaxWidth is { } max && frame.Width > max ? (double)max / frame.Width : 1.0;
        var size = new Size(Math.Max(1, (int)Math.Round(frame.Width * scale)), Math.Max(1, (int)Math.Round(frame.Height * scale)));

        using var canvas = ScaledBgr(frame, size);
        using (var heat = MapMats.ResizedTo(normalisedHeat, size.Width, size.Height, "normalised heatmap"))
            BlendHeat(canvas, heat, options.Alpha);

        if (truth is not null)
            DrawTruth(canvas, truth, frame.Size(), scale);
        var fontScale = Math.Clamp(size.Width / 900.0, 0.4, 1.2);
        foreach (var region in regions)
            DrawRegion(canvas, region, scale, fontScale);
        if (!string.IsNullOrWhiteSpace(header))
            DrawLabel(canvas, header, new Point(0, 0), fontScale);

        return Encode(canvas, options);
    }

    /// <summary>A new BGR Mat of <paramref name="size"/>: the caller's frame is never drawn on.</summary>
    private static Mat ScaledBgr(Mat frame, Size size)
    {
        var scaled = new Mat();
        if (frame.Size() == size)
            frame.CopyTo(scaled);
        else
            Cv2.Resize(frame, scaled, size, 0, 0, InterpolationFlags.Area);
        if (scaled.Channels() == 3)
            return scaled;

        using (scaled)
        {
            var bgr = new Mat();
            Cv2.CvtColor(scaled, bgr, scaled.Channels() == 1 ? ColorConversionCodes.GRAY2BGR : ColorConversionCodes.BGRA2BGR);
            return bgr;
        }
    }

    // The colour's weight follows the heat (alpha * heat), not a flat alpha: a flat blend would paint the whole
    // part JET-blue and hide the surface the operator needs to see where the model found nothing.
    private static unsafe void BlendHeat(Mat canvas, Mat heat, float alpha)
    {
        using var heat8 = new Mat();
        heat.ConvertTo(heat8, MatType.CV_8UC1, 255.0);
        using var colours = new Mat();
        Cv2.ApplyColorMap(heat8, colours, ColormapTypes.Jet);

        // All three Mats were allocated here or by ScaledBgr, so they are continuous and same-sized.
        var count = heat.Rows * heat.Cols;
        var pixels = (byte*)canvas.Data;
        var jet = (byte*)colours.Data;
        var h = (float*)heat.Data;
        for (var i = 0; i < count; i++)
        {
            var v = h[i];
            var w = alpha * (v > 0 ? Math.Min(v, 1f) : 0f);
            if (w == 0)
                continue;
            for (var c = 3 * i; c < 3 * i + 3; c++)
                pixels[c] = (byte)(pixels[c] + w * (jet[c] - pixels[c]) + 0.5f);
        }
    }

    private static void DrawTruth(Mat canvas, TruthMarks truth, Size frameSize, double scale)
    {
        if (truth.DefectMask is { } defect)
        {
            if (defect.Length != frameSize.Width * frameSize.Height)
                throw new ArgumentException($"defect mask of {defect.Length} pixels: expected the frame's {frameSize.Width}x{frameSize.Height}", nameof(truth));
            var bytes = new byte[defect.Length];
            for (var i = 0; i < defect.Length; i++)
                bytes[i] = defect[i] ? (byte)255 : (byte)0;
            using var mask = Mat.FromPixelData(frameSize.Height, frameSize.Width, MatType.CV_8UC1, bytes);
            using var scaled = new Mat();
            Cv2.Resize(mask, scaled, canvas.Size(), 0, 0, InterpolationFlags.Nearest);
            Cv2.FindContours(scaled, out var contours, out _, RetrievalModes.External, ContourApproximationModes.ApproxSimple);
            Cv2.DrawContours(canvas, contours, -1, TruthColour, 1, LineTypes.Link8);
        }

        if (truth.Peak is { } peak)
        {
            var at = new Point((int)Math.Round(peak.X * scale), (int)Math.Round(peak.Y * scale));
            Cv2.DrawMarker(canvas, at, PeakColour, MarkerTypes.Cross, 14, 2);
        }
    }

    private static void DrawRegion(Mat canvas, Region region, double scale, double fontScale)
    {
        var b = region.Box;
        var x0 = (int)Math.Round(b.X * scale);
        var y0 = (int)Math.Round(b.Y * scale);
        var x1 = Math.Max(x0, (int)Math.Round((b.X + b.Width) * scale) - 1);
        var y1 = Math.Max(y0, (int)Math.Round((b.Y + b.Height) * scale) - 1);
        Cv2.Rectangle(canvas, new Point(x0, y0), new Point(x1, y1), BoxColour, 2);

        var text = region.Score.ToString("0.00", CultureInfo.InvariantCulture);
        var textSize = Cv2.GetTextSize(text, Font, fontScale, 1, out var baseline);
        var labelHeight = textSize.Height + baseline + 4;
        // Above the box when there is room, otherwise inside its top edge.
        var top = y0 - labelHeight >= 0 ? y0 - labelHeight : y0;
        DrawLabel(canvas, text, new Point(x0, top), fontScale);
    }

    /// <summary>White text on a black strip whose top-left corner is <paramref name="topLeft"/>: readable on any heat colour.</summary>
    private static void DrawLabel(Mat canvas, string text, Point topLeft, double fontScale)
    {
        var textSize = Cv2.GetTextSize(text, Font, fontScale, 1, out var baseline);
        var strip = new Rect(topLeft.X, topLeft.Y, textSize.Width + 4, textSize.Height + baseline + 4);
        Cv2.Rectangle(canvas, strip, LabelBackground, -1);
        Cv2.PutText(canvas, text, new Point(topLeft.X + 2, topLeft.Y + 2 + textSize.Height), Font, fontScale, BoxColour, 1, LineTypes.AntiAlias);
    }

    private static byte[] Encode(Mat canvas, OverlayOptions options)
    {
        var (extension, parameters) = options.Encoding == ImageEncoding.Png
            ? (".png", Array.Empty<int>())
            : (".jpg", new[] { (int)ImwriteFlags.JpegQuality, options.JpegQuality });
        return Cv2.ImEncode(extension, canvas, out var bytes, parameters)
            ? bytes
            : throw new InvalidOperationException($"OpenCV could not encode the overlay as {options.Encoding}");
    }
}
