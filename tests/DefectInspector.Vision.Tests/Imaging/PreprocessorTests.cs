using DefectInspector.Core.Imaging;
using DefectInspector.Vision.Imaging;
using OpenCvSharp;

namespace DefectInspector.Vision.Tests.Imaging;

public sealed class PreprocessorTests
{
    private const float Tolerance = 1e-6f;

    // 2x2 BGR, row-major: (0,0) (1,0) / (0,1) (1,1).
    private static Mat TwoByTwo()
    {
        var mat = new Mat(2, 2, MatType.CV_8UC3);
        mat.Set(0, 0, new Vec3b(255, 0, 51));   // B G R
        mat.Set(0, 1, new Vec3b(0, 255, 102));
        mat.Set(1, 0, new Vec3b(102, 51, 255));
        mat.Set(1, 1, new Vec3b(153, 204, 0));
        return mat;
    }

    private static Preprocessing Spec(int w, int h, ChannelOrder order, float[]? mean = null, float[]? std = null) =>
        new(w, h, order, mean ?? [0f, 0f, 0f], std ?? [1f, 1f, 1f]);

    [Fact]
    public void Same_size_rgb_normalises_each_channel_by_hand()
    {
        using var frame = TwoByTwo();
        var spec = Spec(2, 2, ChannelOrder.Rgb, mean: [0.5f, 0.25f, 0.2f], std: [0.5f, 0.25f, 2f]);

        var input = Preprocessor.Preprocess(frame, spec);

        // Plane R: 51,102,255,0 -> p/255 = .2,.4,1,0 -> (v - .5)/.5
        // Plane G: 0,255,51,204 -> 0,1,.2,.8 -> (v - .25)/.25
        // Plane B: 255,0,102,153 -> 1,0,.4,.6 -> (v - .2)/2
        float[] expected =
        [
            -0.6f, -0.2f, 1f, -1f,
            -1f, 3f, -0.2f, 2.2f,
            0.4f, -0.1f, 0.1f, 0.2f,
        ];
        Assert.Equal(12, input.Chw.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - input.Chw[i]) < 1e-5f, $"index {i}: expected {expected[i]}, got {input.Chw[i]}");
    }

    [Fact]
    public void Bgr_order_keeps_opencv_planes()
    {
        using var frame = TwoByTwo();

        var input = Preprocessor.Preprocess(frame, Spec(2, 2, ChannelOrder.Bgr));

        float[] expected = [255, 0, 102, 153, 0, 255, 51, 204, 51, 102, 255, 0];
        Assert.Equal(expected.Select(v => v / 255f), input.Chw);
    }

    [Fact]
    public void Rgb_order_swaps_first_and_last_planes()
    {
        using var frame = TwoByTwo();

        var rgb = Preprocessor.Preprocess(frame, Spec(2, 2, ChannelOrder.Rgb)).Chw;
        var bgr = Preprocessor.Preprocess(frame, Spec(2, 2, ChannelOrder.Bgr)).Chw;

        Assert.Equal(bgr[8..12], rgb[0..4]);
        Assert.Equal(bgr[4..8], rgb[4..8]);
        Assert.Equal(bgr[0..4], rgb[8..12]);
    }

    [Fact]
    public void Grayscale_input_gives_three_equal_planes()
    {
        using var gray = new Mat(3, 4, MatType.CV_8UC1);
        for (var i = 0; i < 12; i++)
            gray.Set(i / 4, i % 4, (byte)(i * 20));

        var input = Preprocessor.Preprocess(gray, Spec(4, 3, ChannelOrder.Rgb));

        var plane = Enumerable.Range(0, 12).Select(i => i * 20 / 255f).ToArray();
        Assert.Equal(plane, input.Chw[0..12]);
        Assert.Equal(plane, input.Chw[12..24]);
        Assert.Equal(plane, input.Chw[24..36]);
    }

    [Fact]
    public void Bgra_input_drops_alpha()
    {
        using var bgr = TwoByTwo();
        using var bgra = new Mat();
        Cv2.CvtColor(bgr, bgra, ColorConversionCodes.BGR2BGRA);
        bgra.Set(0, 0, new Vec4b(255, 0, 51, 7));
        var spec = Spec(2, 2, ChannelOrder.Rgb, mean: [0.4f, 0.5f, 0.6f], std: [0.2f, 0.3f, 0.4f]);

        Assert.Equal(Preprocessor.Preprocess(bgr, spec).Chw, Preprocessor.Preprocess(bgra, spec).Chw);
    }

    [Fact]
    public void Downscale_matches_cv2_resize_linear_on_8bit()
    {
        using var frame = new Mat(4, 4, MatType.CV_8UC3);
        var random = new Random(7);
        for (var y = 0; y < 4; y++)
        {
            for (var x = 0; x < 4; x++)
                frame.Set(y, x, new Vec3b((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
        }

        var spec = Spec(2, 2, ChannelOrder.Rgb, mean: [0.485f, 0.456f, 0.406f], std: [0.229f, 0.224f, 0.225f]);
        var input = Preprocessor.Preprocess(frame, spec);

        using var reference = new Mat();
        Cv2.Resize(frame, reference, new Size(2, 2), 0, 0, InterpolationFlags.Linear);
        for (var y = 0; y < 2; y++)
        {
            for (var x = 0; x < 2; x++)
            {
                var px = reference.At<Vec3b>(y, x);
                byte[] rgb = [px.Item2, px.Item1, px.Item0];
                for (var c = 0; c < 3; c++)
                {
                    var expected = (rgb[c] / 255f - spec.Mean[c]) / spec.Std[c];
                    Assert.Equal(expected, input.Chw[c * 4 + y * 2 + x], Tolerance);

                    // Exact halving with half-pixel centres averages each 2x2 block (up to 8-bit rounding).
                    var block = 0;
                    for (var dy = 0; dy < 2; dy++)
                    {
                        for (var dx = 0; dx < 2; dx++)
                            block += frame.At<Vec3b>(2 * y + dy, 2 * x + dx)[2 - c];
                    }

                    Assert.InRange(rgb[c], block / 4.0 - 1, block / 4.0 + 1);
                }
            }
        }
    }

    [Fact]
    public void Output_has_spec_size_and_remembers_the_source_size()
    {
        using var frame = TestImages.Quadrants(100, 60);

        var input = Preprocessor.Preprocess(frame, Preprocessing.ImageNet(64, 48));

        Assert.Equal(3 * 64 * 48, input.Chw.Length);
        Assert.Equal((64, 48, 100, 60), (input.Width, input.Height, input.SourceWidth, input.SourceHeight));
        Assert.Equal(3, input.Channels);
        Assert.All(input.Chw, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Non_continuous_roi_is_read_row_by_row()
    {
        using var big = TestImages.Quadrants(64, 48);
        using var roi = big[new Rect(16, 12, 32, 24)];
        Assert.False(roi.IsContinuous());
        using var copy = roi.Clone();

        var spec = Spec(32, 24, ChannelOrder.Bgr);

        Assert.Equal(Preprocessor.Preprocess(copy, spec).Chw, Preprocessor.Preprocess(roi, spec).Chw);
    }

    [Fact]
    public void Reads_and_preprocesses_a_file()
    {
        using var folder = new TempFolder();
        using var frame = TestImages.Quadrants(80, 40);
        var path = TestImages.Write(frame, folder.File("f.png"));
        var spec = Preprocessing.ImageNet(40, 20);

        var fromFile = Preprocessor.Preprocess(path, spec);

        Assert.Equal(Preprocessor.Preprocess(frame, spec).Chw, fromFile.Chw);
        Assert.Equal((80, 40), (fromFile.SourceWidth, fromFile.SourceHeight));
    }

    [Fact]
    public void Bad_spec_or_frame_is_rejected()
    {
        using var frame = TwoByTwo();
        using var empty = new Mat();
        using var floats = new Mat(2, 2, MatType.CV_32FC3);

        Assert.Throws<ArgumentException>(() => Preprocessor.Preprocess(frame, Spec(2, 2, ChannelOrder.Rgb, std: [1f, 0f, 1f])));
        Assert.Throws<ArgumentException>(() => Preprocessor.Preprocess(frame, Spec(2, 2, ChannelOrder.Rgb, mean: [0f, 0f])));
        Assert.Throws<ArgumentException>(() => Preprocessor.Preprocess(frame, Spec(0, 2, ChannelOrder.Rgb)));
        Assert.Throws<ArgumentException>(() => Preprocessor.Preprocess(empty, Spec(2, 2, ChannelOrder.Rgb)));
        Assert.Throws<ArgumentException>(() => Preprocessor.Preprocess(floats, Spec(2, 2, ChannelOrder.Rgb)));
    }
}
