using OpenCvSharp;

namespace DefectInspector.Training.Augment;

/// <summary>
/// Applies <see cref="AugmentOptions"/> to a BGR frame with OpenCV. All randomness comes from the caller's
/// <see cref="Random"/>, so a seeded run is repeatable. The defect mask, when given, bounds the crop.
/// </summary>
public static class Augmenter
{
    public static Mat Apply(Mat frame, Rect? defectBox, AugmentOptions options, Random random)
    {
        var image = Crop(frame, defectBox, options.MinCropFraction, random);

        if (options.Flips)
        {
            if (random.NextDouble() < 0.5) Cv2.Flip(image, image, FlipMode.Y);
            if (random.NextDouble() < 0.5) Cv2.Flip(image, image, FlipMode.X);
        }
        if (options.Rotate90)
        {
            int turns = random.Next(4);
            if (turns > 0)
                Cv2.Rotate(image, image, turns switch { 1 => RotateFlags.Rotate90Clockwise, 2 => RotateFlags.Rotate180, _ => RotateFlags.Rotate90Counterclockwise });
        }
        if (options.MaxRotationDegrees > 0 || options.MaxScaleJitter > 0 || options.MaxShift > 0)
        {
            double angle = Symmetric(random, options.MaxRotationDegrees);
            double scale = 1 + Symmetric(random, options.MaxScaleJitter);
            using var affine = Cv2.GetRotationMatrix2D(new Point2f(image.Width / 2f, image.Height / 2f), angle, scale);
            affine.Set(0, 2, affine.At<double>(0, 2) + Symmetric(random, options.MaxShift) * image.Width);
            affine.Set(1, 2, affine.At<double>(1, 2) + Symmetric(random, options.MaxShift) * image.Height);
            // Reflecting the border keeps the texture statistics a plain black border would break.
            Cv2.WarpAffine(image, image, affine, image.Size(), InterpolationFlags.Linear, BorderTypes.Reflect101);
        }
        if (options.MaxBrightness > 0 || options.MaxContrast > 0)
        {
            double alpha = 1 + Symmetric(random, options.MaxContrast);
            double beta = Symmetric(random, options.MaxBrightness);
            image.ConvertTo(image, -1, alpha, beta);
        }
        if (options.BlurProbability > 0 && random.NextDouble() < options.BlurProbability)
            Cv2.GaussianBlur(image, image, new Size(3, 3), 0);
        return image;
    }

    /// <summary>A random crop of at least <paramref name="minFraction"/> of each side that still contains the defect box.</summary>
    private static Mat Crop(Mat frame, Rect? defectBox, float minFraction, Random random)
    {
        if (minFraction >= 1f) return frame.Clone();
        int width = (int)Math.Round(frame.Width * (minFraction + random.NextDouble() * (1 - minFraction)));
        int height = (int)Math.Round(frame.Height * (minFraction + random.NextDouble() * (1 - minFraction)));
        int minX = 0, maxX = frame.Width - width, minY = 0, maxY = frame.Height - height;
        if (defectBox is Rect box)
        {
            if (box.Width > width || box.Height > height) return frame.Clone();
            minX = Math.Max(minX, box.Right - width);
            maxX = Math.Min(maxX, box.X);
            minY = Math.Max(minY, box.Bottom - height);
            maxY = Math.Min(maxY, box.Y);
        }
        int x = random.Next(minX, maxX + 1);
        int y = random.Next(minY, maxY + 1);
        return new Mat(frame, new Rect(x, y, width, height)).Clone();
    }

    private static double Symmetric(Random random, double max) => (random.NextDouble() * 2 - 1) * max;
}
