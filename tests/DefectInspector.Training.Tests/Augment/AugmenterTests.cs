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
        var cropOnly = AugmentOptions.None with { MinCropFraction = 0.7f };
        for (int seed = 0; seed < 50; seed++)
        {
            using var crop = Augmenter.Apply(frame, defect, cropOnly, new Random(seed));
            Assert.InRange(crop.Width, 210, 300);
            Assert.InRange(crop.Height, 140, 200);
            // Every defect pixel (value 0) survives the crop.
            Assert.Equal(20 * 20, crop.Width * crop.Height - Cv2.CountNonZero(crop.CvtColor(ColorConversionCodes.BGR2GRAY)));
        }
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
        Assert.Equal(a.Size(), b.Size());
        Assert.Equal(0, Cv2.Norm(a, b, NormTypes.L1));
        Assert.True(a.Size() != c.Size() || Cv2.Norm(a, c, NormTypes.L1) > 0);
    }

    [Fact]
    public void No_augmentation_returns_an_identical_copy()
    {
        using var frame = new Mat(32, 48, MatType.CV_8UC3);
        Cv2.Randu(frame, Scalar.All(0), Scalar.All(255));
        using var copy = Augmenter.Apply(frame, null, AugmentOptions.None, new Random(1));
        Assert.Equal(0, Cv2.Norm(frame, copy, NormTypes.L1));
        Assert.NotEqual(frame.Data, copy.Data);
    }
}
