using DefectInspector.Training.Data;
using OpenCvSharp;

namespace DefectInspector.Training.Tests.Train;

/// <summary>A tiny inspection dataset: grey textured parts, half with a dark scratch or spot and its mask.</summary>
internal static class SyntheticParts
{
    public static Dataset Create(string folder, int perClass, int seed, bool kinds = false)
    {
        Directory.CreateDirectory(folder);
        var random = new Random(seed);
        var images = new List<LabelledImage>();
        for (int i = 0; i < perClass * 2; i++)
        {
            bool defect = i % 2 == 1;
            string kind = !defect ? LabelledImage.GoodKind : kinds && i % 4 == 3 ? "spot" : "scratch";
            using var image = new Mat(96, 96, MatType.CV_8UC3);
            Cv2.Randn(image, new Scalar(140, 140, 140), new Scalar(12, 12, 12));
            Cv2.GaussianBlur(image, image, new Size(3, 3), 0);
            using var mask = new Mat(96, 96, MatType.CV_8UC1, Scalar.Black);
            if (defect)
            {
                var a = new Point(random.Next(10, 50), random.Next(10, 50));
                if (kind == "spot")
                {
                    Cv2.Circle(image, a, 7, new Scalar(30, 30, 30), -1);
                    Cv2.Circle(mask, a, 7, Scalar.White, -1);
                }
                else
                {
                    var b = new Point(a.X + random.Next(25, 40), a.Y + random.Next(15, 40));
                    Cv2.Line(image, a, b, new Scalar(25, 25, 25), 3);
                    Cv2.Line(mask, a, b, Scalar.White, 3);
                }
            }
            string path = Path.Combine(folder, $"part-{i:000}.png");
            Cv2.ImWrite(path, image);
            string? maskPath = null;
            if (defect)
            {
                maskPath = Path.Combine(folder, $"part-{i:000}_mask.png");
                Cv2.ImWrite(maskPath, mask);
            }
            images.Add(new LabelledImage(path, kind, maskPath, Group: $"g{i % 6}"));
        }
        var kindList = images.Select(i => i.Kind).Distinct().OrderBy(k => k == LabelledImage.GoodKind ? "" : k, StringComparer.Ordinal).ToList();
        return new Dataset(folder, DatasetFormat.ImageFolder, images, kindList);
    }
}
