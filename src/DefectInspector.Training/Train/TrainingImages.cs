using DefectInspector.Core.Imaging;
using DefectInspector.Training.Augment;
using DefectInspector.Training.Data;
using DefectInspector.Vision.Imaging;
using OpenCvSharp;

namespace DefectInspector.Training.Train;

/// <summary>
/// The decoded frames of a split, kept in memory (a thousand part photos are a few hundred MB) so that each
/// epoch pays for augmentation and resizing only, with the class index and the defect's bounding box.
/// </summary>
internal sealed class TrainingImages : IDisposable
{
    private readonly List<(Mat Frame, int Label, Rect? DefectBox)> items = [];

    public TrainingImages(IReadOnlyList<LabelledImage> images, IReadOnlyList<string> classes)
    {
        foreach (var image in images)
        {
            int label = ClassIndex(image, classes);
            items.Add((ImageReader.Read(image.Path), label, DefectBox(image.MaskPath)));
        }
    }

    public int Count => items.Count;

    public IReadOnlyList<int> Labels => items.Select(i => i.Label).ToList();

    /// <summary>Preprocessed inputs and labels for <paramref name="indices"/>, augmented when <paramref name="random"/> is given.</summary>
    public (List<InputImage> Inputs, long[] Labels) Batch(IReadOnlyList<int> indices, Preprocessing spec, AugmentOptions augment, Random? random)
    {
        var inputs = new List<InputImage>(indices.Count);
        var labels = new long[indices.Count];
        for (int i = 0; i < indices.Count; i++)
        {
            var (frame, label, box) = items[indices[i]];
            if (random is null)
            {
                inputs.Add(Preprocessor.Preprocess(frame, spec));
            }
            else
            {
                using var augmented = Augmenter.Apply(frame, box, augment, random);
                inputs.Add(Preprocessor.Preprocess(augmented, spec));
            }
            labels[i] = label;
        }
        return (inputs, labels);
    }

    public static int ClassIndex(LabelledImage image, IReadOnlyList<string> classes)
    {
        if (!image.IsDefect) return 0;
        if (classes.Count == 2) return 1;
        for (int c = 1; c < classes.Count; c++)
            if (string.Equals(classes[c], image.Kind, StringComparison.OrdinalIgnoreCase)) return c;
        throw new DataProblemException($"{image.Path}: kind '{image.Kind}' is not one of the model's classes {string.Join(", ", classes)}");
    }

    private static Rect? DefectBox(string? maskPath)
    {
        if (maskPath is null) return null;
        using var mask = Cv2.ImRead(maskPath, ImreadModes.Grayscale);
        if (mask.Empty()) return null;
        using var binary = mask.Threshold(127, 255, ThresholdTypes.Binary);
        var box = Cv2.BoundingRect(binary);
        return box.Width > 0 && box.Height > 0 ? box : null;
    }

    public void Dispose()
    {
        foreach (var item in items) item.Frame.Dispose();
        items.Clear();
    }
}
