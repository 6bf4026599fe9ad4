using DefectInspector.Core.Imaging;
using DefectInspector.Training.Augment;
using DefectInspector.Training.Data;
using DefectInspector.Vision.Imaging;
using OpenCvSharp;

namespace DefectInspector.Training.Train;

/// <summary>
/// The decoded frames of a split, kept in memory (a thousand part photos are a few hundred MB) so that each
/// epoch pays for augmentation and resizing only, with the class index and the defect mask where the data has one.
/// </summary>
internal sealed class TrainingImages : IDisposable
{
    private readonly List<(Mat Frame, int Label, Mat? Mask)> items = [];

    public TrainingImages(IReadOnlyList<LabelledImage> images, IReadOnlyList<string> classes)
    {
        try
        {
            foreach (var image in images)
            {
                int label = ClassIndex(image, classes);
                var frame = ImageReader.Read(image.Path);
                items.Add((frame, label, image.IsDefect ? ReadMask(image.MaskPath, frame.Size()) : null));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Count => items.Count;

    public IReadOnlyList<int> Labels => items.Select(i => i.Label).ToList();

    /// <summary>Defective images with a mask that marks something, which is what location supervision needs.</summary>
    public int MaskCount => items.Count(i => i.Mask is not null);

    public bool HasMasks => MaskCount > 0;

    /// <summary>
    /// Preprocessed inputs and labels for <paramref name="indices"/>, augmented when <paramref name="random"/> is
    /// given, with the defect masks (moved with the frame) when <paramref name="withMasks"/>.
    /// </summary>
    public TrainingBatch Batch(IReadOnlyList<int> indices, Preprocessing spec, AugmentOptions augment, Random? random, bool withMasks)
    {
        var inputs = new List<InputImage>(indices.Count);
        var labels = new long[indices.Count];
        var masks = new Mat?[indices.Count];
        try
        {
            for (int i = 0; i < indices.Count; i++)
            {
                var (frame, label, mask) = items[indices[i]];
                if (random is null)
                {
                    inputs.Add(Preprocessor.Preprocess(frame, spec));
                    masks[i] = withMasks ? mask?.Clone() : null;
                }
                else
                {
                    // The mask still bounds the crop when the batch does not keep it.
                    var augmented = Augmenter.Apply(frame, mask, augment, random);
                    if (withMasks) masks[i] = augmented.Mask;
                    else augmented.Mask?.Dispose();
                    using (augmented.Image)
                        inputs.Add(Preprocessor.Preprocess(augmented.Image, spec));
                }
                labels[i] = label;
            }
            return new TrainingBatch(inputs, labels, masks);
        }
        catch
        {
            foreach (var m in masks) m?.Dispose();
            throw;
        }
    }

    public static int ClassIndex(LabelledImage image, IReadOnlyList<string> classes)
    {
        if (!image.IsDefect) return 0;
        if (classes.Count == 2) return 1;
        for (int c = 1; c < classes.Count; c++)
            if (string.Equals(classes[c], image.Kind, StringComparison.OrdinalIgnoreCase)) return c;
        throw new DataProblemException($"{image.Path}: kind '{image.Kind}' is not one of the model's classes {string.Join(", ", classes)}");
    }

    /// <summary>The mask binarised (255 = defect), or null when there is none or it marks nothing.</summary>
    private static Mat? ReadMask(string? maskPath, Size frame)
    {
        if (maskPath is null) return null;
        var binary = DefectMasks.Read(maskPath, frame);
        if (Cv2.CountNonZero(binary) > 0) return binary;
        binary.Dispose();
        return null;
    }

    public void Dispose()
    {
        foreach (var item in items)
        {
            item.Frame.Dispose();
            item.Mask?.Dispose();
        }
        items.Clear();
    }
}

/// <summary>One batch of preprocessed inputs with class labels and, per image, the defect mask at frame size (owned).</summary>
internal sealed record TrainingBatch(List<InputImage> Inputs, long[] Labels, IReadOnlyList<Mat?> Masks) : IDisposable
{
    public void Dispose()
    {
        foreach (var mask in Masks) mask?.Dispose();
    }
}
