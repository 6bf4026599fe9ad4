using DefectInspector.Training.Augment;
using OpenCvSharp;

namespace DefectInspector.Training.Tests.Augment;

public class AugmenterTests
{
    [Fact]
    public void Crops_never_cut_the_marked_defect_away()
    {
        using var frame = new Mat(200, 300, MatType.CV_8UC3, Scalar.All(128));
        var defect = new Rect(250, 170, 20, 20);
        Cv2.Rectangle(frame, defect, Scalar.All(0), -1);
        using var mask = MaskOf(frame.Size(), defect);
        var cropOnly = AugmentOptions.None with { MinCropFraction = 0.7f };
        for (int seed = 0; seed < 50; seed++)
        {
            using var crop = Augmenter.Apply(frame, mask, cropOnly, new Random(seed));
            Assert.InRange(crop.Image.Width, 210, 300);
            Assert.InRange(crop.Image.Height, 140, 200);
            // Every defect pixel (value 0) survives the crop, and the mask still marks all of them.
            using var gray = crop.Image.CvtColor(ColorConversionCodes.BGR2GRAY);
            Assert.Equal(20 * 20, crop.Image.Width * crop.Image.Height - Cv2.CountNonZero(gray));
            Assert.Equal(20 * 20, Cv2.CountNonZero(crop.Mask!));
        }
    }

    [Fact]
    public void The_mask_moves_with_the_frame_through_every_geometric_step()
    {
        // A dark square on a bright frame, and its mask: after any augmentation the mask must still sit on dark pixels.
        using var frame = new Mat(120, 160, MatType.CV_8UC3, Scalar.All(200));
        var defect = new Rect(20, 30, 24, 16);
        Cv2.Rectangle(frame, defect, Scalar.All(20), -1);
        using var mask = MaskOf(frame.Size(), defect);
        var geometry = new AugmentOptions(MaxBrightness: 0, MaxContrast: 0, BlurProbability: 0, MaxRotationDegrees: 10, MaxScaleJitter: 0.1f, MaxShift: 0.05f);
        for (int seed = 0; seed < 40; seed++)
        {
            using var augmented = Augmenter.Apply(frame, mask, geometry, new Random(seed));
            Assert.Equal(augmented.Image.Size(), augmented.Mask!.Size());
            using var gray = augmented.Image.CvtColor(ColorConversionCodes.BGR2GRAY);
            using var outside = new Mat();
            Cv2.BitwiseNot(augmented.Mask, outside);
            double inside = Cv2.Mean(gray, augmented.Mask).Val0, rest = Cv2.Mean(gray, outside).Val0;
            Assert.True(inside < 60 && rest > 150, $"seed {seed}: mean gray under the mask {inside:0}, elsewhere {rest:0}");
            // Nearest-neighbour resampling keeps the mask binary.
            using var between = new Mat();
            Cv2.InRange(augmented.Mask, new Scalar(1), new Scalar(254), between);
            Assert.Equal(0, Cv2.CountNonZero(between));
        }
    }

    [Fact]
    public void A_mask_does_not_change_how_the_frame_is_augmented()
    {
        using var frame = new Mat(64, 80, MatType.CV_8UC3);
        Cv2.Randu(frame, Scalar.All(0), Scalar.All(255));
        using var mask = MaskOf(frame.Size(), new Rect(30, 20, 8, 8));
        using var with = Augmenter.Apply(frame, mask, new AugmentOptions(), new Random(11));
        using var without = Augmenter.Apply(frame, null, new AugmentOptions(), new Random(11));
        Assert.Null(without.Mask);
        Assert.Equal(with.Image.Size(), without.Image.Size());
        Assert.Equal(0, Cv2.Norm(with.Image, without.Image, NormTypes.L1));
    }

    [Fact]
    public void A_mask_of_another_size_is_refused_naming_both_sizes()
    {
        using var frame = new Mat(64, 80, MatType.CV_8UC3, Scalar.All(1));
        using var mask = new Mat(64, 64, MatType.CV_8UC1, Scalar.All(0));
        var e = Assert.Throws<ArgumentException>(() => Augmenter.Apply(frame, mask, new AugmentOptions(), new Random(1)));
        Assert.Contains("64x64", e.Message);
        Assert.Contains("80x64", e.Message);
    }

    [Fact]
    public void The_same_seed_gives_the_same_augmentation_and_another_seed_another()
    {
        using var frame = new Mat(64, 80, MatType.CV_8UC3);
        Cv2.Randu(frame, Scalar.All(0), Scalar.All(255));
        var options = new AugmentOptions();
        using var a = Augmenter.Apply(frame, null, options, new Random(7));
        using var b = Augmenter.Apply(frame, null, options, new Random(7));
        using var c = Augmenter.Apply(frame, null, options, new Random(8));
        Assert.Equal(a.Image.Size(), b.Image.Size());
        Assert.Equal(0, Cv2.Norm(a.Image, b.Image, NormTypes.L1));
        Assert.True(a.Image.Size() != c.Image.Size() || Cv2.Norm(a.Image, c.Image, NormTypes.L1) > 0);
    }

    [Fact]
    public void No_augmentation_returns_an_identical_copy()
    {
        using var frame = new Mat(32, 48, MatType.CV_8UC3);
        Cv2.Randu(frame, Scalar.All(0), Scalar.All(255));
        using var copy = Augmenter.Apply(frame, null, AugmentOptions.None, new Random(1));
        Assert.Equal(0, Cv2.Norm(frame, copy.Image, NormTypes.L1));
        Assert.NotEqual(frame.Data, copy.Image.Data);
    }

    private static Mat MaskOf(Size size, Rect defect)
    {
        var mask = new Mat(size, MatType.CV_8UC1, Scalar.All(0));
        Cv2.Rectangle(mask, defect, Scalar.All(255), -1);
        return mask;
    }
}
