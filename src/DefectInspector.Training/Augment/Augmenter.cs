using OpenCvSharp;

namespace DefectInspector.Training.Augment;

/// <summary>
/// Applies <see cref="AugmentOptions"/> to a BGR frame with OpenCV. All randomness comes from the caller's
/// <see cref="Random"/>, so a seeded run is repeatable. The defect mask, when given, bounds the crop and goes through
/// the same geometry as the frame (nearest neighbour, so it stays binary), so it still marks the defect's pixels.
/// </summary>
public static class Augmenter
{
    /// <summary>
    /// <paramref name="mask"/>: 8-bit, the frame's size, non-zero = defect. The mask's geometry draws no random numbers
    /// of its own, so a frame is augmented the same with or without one.
    /// </summary>
    public static AugmentedImage Apply(Mat frame, Mat? mask, AugmentOptions options, Random random)
    {
        if (mask is not null && mask.Size() != frame.Size())
            throw new ArgumentException($"defect mask {mask.Width}x{mask.Height}: expected the frame's size {frame.Width}x{frame.Height}", nameof(mask));
        var crop = CropRect(frame.Size(), mask, options.MinCropFraction, random);
        var image = new Mat(frame, crop).Clone();
        var marks = mask is null ? null : new Mat(mask, crop).Clone();
        try
        {
            if (options.Flips)
            {
                if (random.NextDouble() < 0.5) Flip(image, marks, FlipMode.Y);
                if (random.NextDouble() < 0.5) Flip(image, marks, FlipMode.X);
            }
            if (options.Rotate90)
            {
                int turns = random.Next(4);
                if (turns > 0)
                {
                    var rotation = turns switch { 1 => RotateFlags.Rotate90Clockwise, 2 => RotateFlags.Rotate180, _ => RotateFlags.Rotate90Counterclockwise };
                    Cv2.Rotate(image, image, rotation);
                    if (marks is not null) Cv2.Rotate(marks, marks, rotation);
                }
            }
            if (options.MaxRotationDegrees > 0 || options.MaxScaleJitter > 0 || options.MaxShift > 0)
            {
                double angle = Symmetric(random, options.MaxRotationDegrees);
                double scale = 1 + Symmetric(random, options.MaxScaleJitter);
                using var affine = Cv2.GetRotationMatrix2D(new Point2f(image.Width / 2f, image.Height / 2f), angle, scale);
                affine.Set(0, 2, affine.At<double>(0, 2) + Symmetric(random, options.MaxShift) * image.Width);
                affine.Set(1, 2, affine.At<double>(1, 2) + Symmetric(random, options.MaxShift) * image.Height);
                // Reflecting the border keeps the texture statistics a plain black border would break; the mask reflects
                // with it, since a defect reflected into the border is there to be seen.
                Cv2.WarpAffine(image, image, affine, image.Size(), InterpolationFlags.Linear, BorderTypes.Reflect101);
                if (marks is not null) Cv2.WarpAffine(marks, marks, affine, marks.Size(), InterpolationFlags.Nearest, BorderTypes.Reflect101);
            }
            if (options.MaxBrightness > 0 || options.MaxContrast > 0)
            {
                double alpha = 1 + Symmetric(random, options.MaxContrast);
                double beta = Symmetric(random, options.MaxBrightness);
                image.ConvertTo(image, -1, alpha, beta);
            }
            if (options.BlurProbability > 0 && random.NextDouble() < options.BlurProbability)
                Cv2.GaussianBlur(image, image, new Size(3, 3), 0);
            return new AugmentedImage(image, marks);
        }
        catch
        {
            image.Dispose();
            marks?.Dispose();
            throw;
        }
    }

    private static void Flip(Mat image, Mat? mask, FlipMode mode)
    {
        Cv2.Flip(image, image, mode);
        if (mask is not null) Cv2.Flip(mask, mask, mode);
    }

    /// <summary>A random crop of at least <paramref name="minFraction"/> of each side that still contains the defect's bounding box.</summary>
    private static Rect CropRect(Size frame, Mat? mask, float minFraction, Random random)
    {
        var whole = new Rect(0, 0, frame.Width, frame.Height);
        if (minFraction >= 1f) return whole;
        int width = (int)Math.Round(frame.Width * (minFraction + random.NextDouble() * (1 - minFraction)));
        int height = (int)Math.Round(frame.Height * (minFraction + random.NextDouble() * (1 - minFraction)));
        int minX = 0, maxX = frame.Width - width, minY = 0, maxY = frame.Height - height;
        if (mask is not null && Cv2.BoundingRect(mask) is { Width: > 0, Height: > 0 } box)
        {
            if (box.Width > width || box.Height > height) return whole;
            minX = Math.Max(minX, box.Right - width);
            maxX = Math.Min(maxX, box.X);
            minY = Math.Max(minY, box.Bottom - height);
            maxY = Math.Min(maxY, box.Y);
        }
        int x = random.Next(minX, maxX + 1);
        int y = random.Next(minY, maxY + 1);
        return new Rect(x, y, width, height);
    }

    private static double Symmetric(Random random, double max) => (random.NextDouble() * 2 - 1) * max;
}

/// <summary>An augmented frame and, when the source had one, its defect mask moved the same way. Owns both.</summary>
public sealed record AugmentedImage(Mat Image, Mat? Mask) : IDisposable
{
    public void Dispose()
    {
        Image.Dispose();
        Mask?.Dispose();
    }
}
