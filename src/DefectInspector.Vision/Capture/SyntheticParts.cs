using OpenCvSharp;

namespace DefectInspector.Vision.Capture;

/// <summary>
/// Draws the parts of the virtual line: a lit, rounded, machined-looking part on a dark belt, and optionally one
/// defect on it. Every size is relative to the frame, so a part looks the same at any resolution and a defect
/// stays a few pixels wide after a model's resize to 128 px. Everything random comes from the caller's
/// <see cref="Random"/>, so a seed gives the same parts on any machine.
/// </summary>
public static class SyntheticParts
{
    /// <summary>Smaller frames leave no room for a textured part with a visible defect on it.</summary>
    public const int MinSize = 32;

    private static readonly DefectKind[] Kinds = Enum.GetValues<DefectKind>();

    /// <summary>
    /// A good part when <paramref name="defect"/> is null, otherwise a part with that defect at a random place,
    /// size and orientation inside the part. The caller disposes the result.
    /// </summary>
    public static SyntheticPart Draw(int width, int height, Random rng, DefectKind? defect)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, MinSize);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, MinSize);
        ArgumentNullException.ThrowIfNull(rng);

        var scale = Math.Min(width, height);
        // OpenCV's own generator fills the noise fields far faster than Random could; seeding it from the caller's
        // generator keeps the whole part repeatable.
        var noise = new RNG((ulong)rng.NextInt64());

        using var part = PartMask(width, height, scale, rng, out var partBounds);
        using var surface = Surface(part, scale, rng, ref noise);
        // The defect is drawn last, so that a seed gives the same part with or without it: the two images then
        // differ only where the mask says.
        using var belt = Belt(width, height, rng, ref noise);
        var defectMask = new Mat(height, width, MatType.CV_8UC1, Scalar.All(0));
        Rect? defectBounds = null;
        if (defect is { } kind)
        {
            DrawDefect(defectMask, part, partBounds, scale, kind, rng);
            Darken(surface, defectMask, kind, rng);
            defectBounds = Cv2.BoundingRect(defectMask);
        }

        var image = Compose(belt, surface, part);
        return new SyntheticPart(image, defectMask, defect, defectBounds, partBounds);
    }

    /// <summary>Null (a good part) with probability 1 - <paramref name="defectRate"/>, else one kind, all equally likely.</summary>
    public static DefectKind? PickDefect(Random rng, double defectRate)
    {
        ArgumentNullException.ThrowIfNull(rng);
        return rng.NextDouble() < defectRate ? Kinds[rng.Next(Kinds.Length)] : null;
    }

    private static double Uniform(Random rng, double low, double high) => low + (rng.NextDouble() * (high - low));

    private static Point At(double x, double y) => new((int)Math.Round(x), (int)Math.Round(y));

    /// <summary>A rounded rectangle, slightly shifted and turned as parts come off a belt: 255 inside, 0 outside.</summary>
    private static Mat PartMask(int width, int height, int scale, Random rng, out Rect bounds)
    {
        var halfWidth = width * Uniform(rng, 0.55, 0.72) / 2;
        var halfHeight = height * Uniform(rng, 0.52, 0.70) / 2;
        var centreX = (width / 2.0) + (width * Uniform(rng, -0.05, 0.05));
        var centreY = (height / 2.0) + (height * Uniform(rng, -0.05, 0.05));
        var angle = Uniform(rng, -6, 6) * Math.PI / 180;
        var radius = Math.Min(halfWidth, halfHeight) * Uniform(rng, 0.12, 0.45);
        var (cos, sin) = (Math.Cos(angle), Math.Sin(angle));

        const int arcSteps = 8;
        var outline = new List<Point>(4 * (arcSteps + 1));
        (double X, double Y, double StartAngle)[] corners =
        [
            (halfWidth - radius, halfHeight - radius, 0),
            (-halfWidth + radius, halfHeight - radius, Math.PI / 2),
            (-halfWidth + radius, -halfHeight + radius, Math.PI),
            (halfWidth - radius, -halfHeight + radius, 3 * Math.PI / 2),
        ];
        foreach (var (x, y, start) in corners)
        {
            for (var step = 0; step <= arcSteps; step++)
            {
                var a = start + (Math.PI / 2 * step / arcSteps);
                var (px, py) = (x + (radius * Math.Cos(a)), y + (radius * Math.Sin(a)));
                outline.Add(At(centreX + (px * cos) - (py * sin), centreY + (px * sin) + (py * cos)));
            }
        }

        var mask = new Mat(height, width, MatType.CV_8UC1, Scalar.All(0));
        Cv2.FillPoly(mask, [outline], Scalar.All(255), LineTypes.Link8);
        bounds = Cv2.BoundingRect(outline) & new Rect(0, 0, width, height);
        return mask;
    }

    /// <summary>
    /// The part's grey level everywhere (CV_32F): an even light with a gentle gradient, low-frequency mottling,
    /// brushed machining marks and sensor grain, and a darker chamfer along the edge.
    /// </summary>
    private static Mat Surface(Mat part, int scale, Random rng, ref RNG noise)
    {
        var (width, height) = (part.Width, part.Height);
        var surface = new Mat(height, width, MatType.CV_32FC1, Scalar.All(Uniform(rng, 150, 185)));

        var light = Uniform(rng, 0, 2 * Math.PI);
        var (dx, dy) = (Math.Cos(light) * Uniform(rng, 6, 16) / scale, Math.Sin(light) * Uniform(rng, 6, 16) / scale);
        var values = surface.AsSpan<float>();
        for (var y = 0; y < height; y++)
        {
            for (var x = 0; x < width; x++)
                values[(y * width) + x] += (float)((dx * (x - (width / 2.0))) + (dy * (y - (height / 2.0))));
        }

        using (var coarse = new Mat(6, 8, MatType.CV_32FC1))
        using (var mottling = new Mat())
        {
            noise.Fill(coarse, DistributionType.Normal, InputArray.Create(0.0), InputArray.Create(7.0));
            Cv2.Resize(coarse, mottling, new Size(width, height), interpolation: InterpolationFlags.Cubic);
            Cv2.Add(surface, mottling, surface);
        }

        using (var grain = new Mat(height, width, MatType.CV_32FC1))
        using (var brushed = new Mat())
        {
            noise.Fill(grain, DistributionType.Normal, InputArray.Create(0.0), InputArray.Create(14.0));
            var stroke = Math.Max(3, scale / 25) | 1;
            Cv2.Blur(grain, brushed, new Size(stroke, 1));
            Cv2.Add(surface, brushed, surface);
            noise.Fill(grain, DistributionType.Normal, InputArray.Create(0.0), InputArray.Create(3.0));
            Cv2.Add(surface, grain, surface);
        }

        using var inner = Eroded(part, scale * 0.02);
        using var rim = new Mat();
        Cv2.Subtract(part, inner, rim);
        Cv2.Subtract(surface, Scalar.All(Uniform(rng, 18, 30)), surface, rim);
        return surface;
    }

    /// <summary>The dark belt behind the part (CV_32F).</summary>
    private static Mat Belt(int width, int height, Random rng, ref RNG noise)
    {
        var belt = new Mat(height, width, MatType.CV_32FC1);
        noise.Fill(belt, DistributionType.Normal, InputArray.Create(Uniform(rng, 28, 48)), InputArray.Create(3.0));
        return belt;
    }

    private static Mat Eroded(Mat mask, double radius)
    {
        var size = Math.Max(3, (int)Math.Round(radius) * 2 + 1);
        using var kernel = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(size, size));
        var eroded = new Mat();
        Cv2.Erode(mask, eroded, kernel);
        return eroded;
    }

    /// <summary>Draws the defect's shape into <paramref name="mask"/>, centred well inside the part and clipped to it.</summary>
    private static void DrawDefect(Mat mask, Mat part, Rect partBounds, int scale, DefectKind kind, Random rng)
    {
        using var deepInside = Eroded(part, scale * 0.12);
        var centre = PointInside(deepInside, partBounds, rng);
        switch (kind)
        {
            case DefectKind.Scratch:
                DrawScratch(mask, centre, scale, rng);
                break;
            case DefectKind.Spot:
                DrawSpots(mask, centre, scale, rng);
                break;
            case DefectKind.Crack:
                DrawCrack(mask, centre, scale, rng);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown defect kind");
        }

        // A defect never hangs over the part's edge: a model would see it on the belt, not the part.
        using var inside = Eroded(part, scale * 0.015);
        Cv2.BitwiseAnd(mask, inside, mask);
    }

    private static Point PointInside(Mat region, Rect bounds, Random rng)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var point = new Point(bounds.X + rng.Next(bounds.Width), bounds.Y + rng.Next(bounds.Height));
            if (region.At<byte>(point.Y, point.X) != 0)
                return point;
        }

        // The part always covers its own centre; reaching here takes a part far thinner than PartMask draws.
        return new Point(bounds.X + (bounds.Width / 2), bounds.Y + (bounds.Height / 2));
    }

    private static int Thickness(int scale, Random rng, double low, double high) =>
        Math.Max(2, (int)Math.Round(scale * Uniform(rng, low, high)));

    private static void DrawScratch(Mat mask, Point centre, int scale, Random rng)
    {
        var direction = Uniform(rng, 0, Math.PI);
        var length = scale * Uniform(rng, 0.18, 0.38);
        var thickness = Thickness(scale, rng, 0.020, 0.030);
        var bow = scale * Uniform(rng, -0.025, 0.025);
        Cv2.Polylines(mask, [Bowed(centre, direction, length, bow, scale, rng)], false, Scalar.All(255), thickness, LineTypes.Link8);

        // Scratches often come in pairs from the same dragged burr.
        if (rng.NextDouble() < 0.5)
        {
            var offset = thickness * Uniform(rng, 2.5, 4);
            var beside = new Point(
                centre.X - (int)Math.Round(offset * Math.Sin(direction)),
                centre.Y + (int)Math.Round(offset * Math.Cos(direction)));
            var shorter = length * Uniform(rng, 0.4, 0.8);
            Cv2.Polylines(mask, [Bowed(beside, direction, shorter, bow, scale, rng)], false, Scalar.All(255), Math.Max(2, thickness - 1), LineTypes.Link8);
        }
    }

    /// <summary>Points along a gentle arc through <paramref name="centre"/>, with a little hand-made wobble.</summary>
    private static List<Point> Bowed(Point centre, double direction, double length, double bow, int scale, Random rng)
    {
        const int points = 6;
        var (cos, sin) = (Math.Cos(direction), Math.Sin(direction));
        var line = new List<Point>(points);
        for (var i = 0; i < points; i++)
        {
            var t = ((double)i / (points - 1)) - 0.5;
            var across = (bow * (1 - (4 * t * t))) + (scale * Uniform(rng, -0.004, 0.004));
            var along = t * length;
            line.Add(At(centre.X + (along * cos) - (across * sin), centre.Y + (along * sin) + (across * cos)));
        }

        return line;
    }

    private static void DrawSpots(Mat mask, Point centre, int scale, Random rng)
    {
        var count = rng.Next(1, 4);
        for (var i = 0; i < count; i++)
        {
            var spread = i == 0 ? 0 : scale * 0.06;
            var at = At(centre.X + Uniform(rng, -spread, spread), centre.Y + Uniform(rng, -spread, spread));
            var major = scale * Uniform(rng, 0.03, 0.06);
            var axes = new Size(Math.Max(2, (int)Math.Round(major)), Math.Max(2, (int)Math.Round(major * Uniform(rng, 0.6, 1))));
            Cv2.Ellipse(mask, at, axes, Uniform(rng, 0, 180), 0, 360, Scalar.All(255), -1, LineTypes.Link8);
        }
    }

    private static void DrawCrack(Mat mask, Point centre, int scale, Random rng)
    {
        var thickness = Thickness(scale, rng, 0.016, 0.024);
        var step = scale * Uniform(rng, 0.018, 0.03);
        var heading = Uniform(rng, 0, 2 * Math.PI);
        var steps = rng.Next(8, 15);

        // Grown both ways from the centre, so the centre (known to be well inside the part) is on the crack.
        var forward = Walk(centre, heading, steps / 2, step, rng);
        var backward = Walk(centre, heading + Math.PI, steps - (steps / 2), step, rng);
        backward.Reverse();
        var crack = backward.Concat(forward.Skip(1)).ToList();
        Cv2.Polylines(mask, [crack], false, Scalar.All(255), thickness, LineTypes.Link8);

        if (rng.NextDouble() < 0.6)
        {
            var from = crack[rng.Next(crack.Count)];
            var side = rng.NextDouble() < 0.5 ? -1 : 1;
            var branch = Walk(from, heading + (side * Uniform(rng, 0.5, 1.1)), rng.Next(3, 7), step * 0.8, rng);
            Cv2.Polylines(mask, [branch], false, Scalar.All(255), Math.Max(2, thickness - 1), LineTypes.Link8);
        }
    }

    private static List<Point> Walk(Point start, double heading, int steps, double step, Random rng)
    {
        var points = new List<Point>(steps + 1) { start };
        var (x, y) = ((double)start.X, (double)start.Y);
        for (var i = 0; i < steps; i++)
        {
            heading += Uniform(rng, -0.6, 0.6);
            x += step * Math.Cos(heading);
            y += step * Math.Sin(heading);
            points.Add(At(x, y));
        }

        return points;
    }

    /// <summary>Lowers the surface under the defect, with softened edges as a lens would render them.</summary>
    private static void Darken(Mat surface, Mat mask, DefectKind kind, Random rng)
    {
        var depth = kind switch
        {
            DefectKind.Scratch => Uniform(rng, 70, 100),
            DefectKind.Spot => Uniform(rng, 85, 120),
            _ => Uniform(rng, 95, 130),
        };
        using var shade = new Mat();
        mask.ConvertTo(shade, MatType.CV_32FC1, depth / 255);
        Cv2.GaussianBlur(shade, shade, new Size(3, 3), 0);
        Cv2.Subtract(surface, shade, surface);
    }

    /// <summary>The part over the belt with anti-aliased edges, as an 8-bit BGR frame.</summary>
    private static Mat Compose(Mat belt, Mat surface, Mat part)
    {
        using var alpha = new Mat();
        part.ConvertTo(alpha, MatType.CV_32FC1, 1.0 / 255);
        Cv2.GaussianBlur(alpha, alpha, new Size(3, 3), 0);

        using var difference = new Mat();
        Cv2.Subtract(surface, belt, difference);
        Cv2.Multiply(difference, alpha, difference);
        using var grey = new Mat();
        Cv2.Add(belt, difference, grey);
        using var grey8 = new Mat();
        grey.ConvertTo(grey8, MatType.CV_8UC1);
        var image = new Mat();
        Cv2.CvtColor(grey8, image, ColorConversionCodes.GRAY2BGR);
        return image;
    }
}
