using DefectInspector.Core.Explain;
using DefectInspector.Core.Regions;
using DefectInspector.Vision.Rendering;
using OpenCvSharp;

namespace DefectInspector.Vision.Tests.Rendering;

public sealed class OverlayRendererTests
{
    private static readonly Scalar FrameColour = new(120, 130, 140);

    // 200x100 frame; the heat is 1 over the right 3 of 10 columns and bottom half, 0 elsewhere.
    private static Mat Frame() => new(100, 200, MatType.CV_8UC3, FrameColour);

    private static FloatMap Heat()
    {
        var values = new float[10 * 10];
        for (var y = 5; y < 10; y++)
        {
            for (var x = 7; x < 10; x++)
                values[y * 10 + x] = 1f;
        }

        return new FloatMap(10, 10, values);
    }

    private static readonly Region Hot = new(new Box(140, 50, 60, 50), 3000, 0.87f, 0.8f, 0.9f);

    private static Mat Decode(byte[] bytes)
    {
        var mat = Cv2.ImDecode(bytes, ImreadModes.Color);
        Assert.False(mat.Empty(), "overlay bytes do not decode");
        return mat;
    }

    [Fact]
    public void Png_overlay_keeps_size_tints_hot_pixels_and_leaves_cold_ones_alone()
    {
        using var frame = Frame();

        var bytes = OverlayRenderer.Render(frame, Heat(), [Hot], "defect 0.97 gradcam", new OverlayOptions(Encoding: ImageEncoding.Png));

        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        using var overlay = Decode(bytes);
        Assert.Equal(new Size(200, 100), overlay.Size());

        var hot = overlay.At<Vec3b>(85, 180);
        Assert.True(hot.Item2 > hot.Item1 + 30 && hot.Item2 > hot.Item0 + 30, $"hot pixel BGR {hot.Item0},{hot.Item1},{hot.Item2} is not reddish");

        var cold = overlay.At<Vec3b>(80, 40);
        Assert.Equal(new Vec3b(120, 130, 140), cold);
    }

    [Fact]
    public void Boxes_and_header_are_drawn()
    {
        using var frame = Frame();

        using var overlay = Decode(OverlayRenderer.Render(frame, Heat(), [Hot], "defect 0.97 gradcam", new OverlayOptions(Encoding: ImageEncoding.Png)));

        Assert.Equal(new Vec3b(255, 255, 255), overlay.At<Vec3b>(75, 140)); // left edge of the box
        Assert.Equal(new Vec3b(255, 255, 255), overlay.At<Vec3b>(75, 141)); // 2 px wide
        Assert.Equal(new Vec3b(0, 0, 0), overlay.At<Vec3b>(1, 1));         // the header's strip
        using var withoutHeader = Decode(OverlayRenderer.Render(frame, Heat(), [Hot], "", new OverlayOptions(Encoding: ImageEncoding.Png)));
        Assert.Equal(new Vec3b(120, 130, 140), withoutHeader.At<Vec3b>(1, 1));
    }

    [Fact]
    public void Truth_marks_outline_the_defect_and_cross_the_peak()
    {
        using var frame = Frame();
        var defect = new bool[200 * 100];
        for (var y = 20; y < 40; y++)
            for (var x = 20; x < 60; x++)
                defect[y * 200 + x] = true;

        using var overlay = Decode(OverlayRenderer.Render(frame, Heat(), [], "", new OverlayOptions(Encoding: ImageEncoding.Png),
            new TruthMarks(defect, (150, 60))));

        Assert.Equal(new Vec3b(0, 255, 0), overlay.At<Vec3b>(30, 20));    // the outline's left edge
        Assert.Equal(new Vec3b(0, 255, 0), overlay.At<Vec3b>(39, 45));    // its bottom edge
        Assert.Equal(new Vec3b(120, 130, 140), overlay.At<Vec3b>(30, 40)); // inside: the frame as it was
        Assert.Equal(new Vec3b(255, 0, 255), overlay.At<Vec3b>(60, 150));  // the peak's cross
        Assert.Equal(new Vec3b(255, 0, 255), overlay.At<Vec3b>(60, 155));
        var wrongSize = Assert.Throws<ArgumentException>(() => OverlayRenderer.Render(frame, Heat(), [], "", null, new TruthMarks(new bool[10], null)));
        Assert.Contains("200x100", wrongSize.Message);
    }

    [Fact]
    public void Zero_alpha_shows_the_frame_under_the_heat()
    {
        using var frame = Frame();

        using var overlay = Decode(OverlayRenderer.Render(frame, Heat(), [], "", new OverlayOptions(Encoding: ImageEncoding.Png, Alpha: 0f)));

        Assert.Equal(new Vec3b(120, 130, 140), overlay.At<Vec3b>(85, 180));
    }

    [Fact]
    public void Jpeg_overlay_decodes_to_the_frame_size()
    {
        using var frame = Frame();

        var bytes = OverlayRenderer.Render(frame, Heat(), [Hot], "defect 0.97 gradcam");

        Assert.Equal([0xFF, 0xD8], bytes[..2]);
        using var overlay = Decode(bytes);
        Assert.Equal(new Size(200, 100), overlay.Size());
        var hot = overlay.At<Vec3b>(85, 180);
        Assert.True(hot.Item2 > hot.Item0 + 25, $"hot pixel BGR {hot.Item0},{hot.Item1},{hot.Item2} is not reddish");
        var cold = overlay.At<Vec3b>(80, 40);
        Assert.InRange(cold.Item0, (byte)115, (byte)125);
        Assert.InRange(cold.Item2, (byte)135, (byte)145);
    }

    [Fact]
    public void Jpeg_quality_changes_the_encoding()
    {
        using var frame = Frame();
        using var noise = new Mat(100, 200, MatType.CV_8UC3);
        Cv2.Randu(noise, new Scalar(0, 0, 0), new Scalar(255, 255, 255));

        var low = OverlayRenderer.Render(noise, Heat(), [], "", new OverlayOptions(JpegQuality: 10));
        var high = OverlayRenderer.Render(noise, Heat(), [], "", new OverlayOptions(JpegQuality: 95));

        Assert.True(low.Length < high.Length, $"quality 10 gave {low.Length} bytes, quality 95 gave {high.Length}");
    }

    [Theory]
    [InlineData(100, 100, 50)]
    [InlineData(150, 150, 75)]
    [InlineData(200, 200, 100)]
    [InlineData(500, 200, 100)]
    public void MaxWidth_scales_down_keeping_aspect_but_never_up(int maxWidth, int width, int height)
    {
        using var frame = Frame();

        using var overlay = Decode(OverlayRenderer.Render(frame, Heat(), [Hot], "defect", new OverlayOptions(MaxWidth: maxWidth)));

        Assert.Equal(new Size(width, height), overlay.Size());
    }

    [Fact]
    public void Scaled_overlay_keeps_the_heat_where_it_was()
    {
        using var frame = Frame();

        using var overlay = Decode(OverlayRenderer.Render(frame, Heat(), [Hot], "", new OverlayOptions(MaxWidth: 100, Encoding: ImageEncoding.Png)));

        var hot = overlay.At<Vec3b>(42, 90);
        Assert.True(hot.Item2 > hot.Item0 + 30, $"hot pixel BGR {hot.Item0},{hot.Item1},{hot.Item2} is not reddish");
        Assert.Equal(new Vec3b(120, 130, 140), overlay.At<Vec3b>(40, 20));
    }

    [Fact]
    public void Grayscale_frames_are_accepted()
    {
        using var gray = new Mat(100, 200, MatType.CV_8UC1, new Scalar(90));

        using var overlay = Decode(OverlayRenderer.Render(gray, Heat(), [Hot], "x", new OverlayOptions(Encoding: ImageEncoding.Png)));

        Assert.Equal(new Vec3b(90, 90, 90), overlay.At<Vec3b>(80, 40));
    }

    [Fact]
    public void The_callers_frame_is_left_untouched()
    {
        using var frame = Frame();
        using var before = frame.Clone();

        OverlayRenderer.Render(frame, Heat(), [Hot], "defect", new OverlayOptions(Encoding: ImageEncoding.Png));

        Assert.Equal(0, Cv2.Norm(before, frame, NormTypes.INF));
    }

    [Fact]
    public void Invalid_options_are_rejected()
    {
        using var frame = Frame();

        Assert.Throws<ArgumentException>(() => OverlayRenderer.Render(frame, Heat(), [], "", new OverlayOptions(MaxWidth: 0)));
        Assert.Throws<ArgumentException>(() => OverlayRenderer.Render(frame, Heat(), [], "", new OverlayOptions(JpegQuality: 0)));
        Assert.Throws<ArgumentException>(() => OverlayRenderer.Render(frame, Heat(), [], "", new OverlayOptions(Alpha: 1.5f)));
        Assert.Throws<ArgumentException>(() => OverlayRenderer.Render(frame, new FloatMap(10, 10, new float[3]), [], ""));
    }
}
