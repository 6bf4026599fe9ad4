using DefectInspector.Vision.Imaging;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Training.Data;

/// <summary>
/// Checks the files behind a dataset's images. An unusable image is skipped with a warning (or fatal when strict);
/// a missing, unreadable or wrongly sized mask is always fatal, because a wrong mask silently corrupts localisation
/// metrics where a missing image only makes the dataset smaller.
/// </summary>
internal sealed class ImageChecker(DatasetReadOptions options, ILogger log)
{
    public (IReadOnlyList<LabelledImage> Kept, int Skipped) Check(IReadOnlyList<LabelledImage> images)
    {
        var kept = new List<LabelledImage>(images.Count);
        var skipped = 0;
        foreach (var image in images)
        {
            if (image.MaskPath is not null && !File.Exists(image.MaskPath))
                throw new DataProblemException($"mask '{image.MaskPath}' of image '{image.Path}' does not exist; expected a mask file of the image's size");

            var problem = options.CheckImages ? Decode(image) : Exists(image);
            if (problem is null)
            {
                kept.Add(image);
                continue;
            }

            if (options.Strict)
                throw new DataProblemException($"{problem.Message} (strict reading stops at the first unusable image)", problem);
            log.LogWarning("{Problem}; the image is left out of the dataset", problem.Message);
            skipped++;
        }

        return (kept, skipped);
    }

    private static ImageReadException? Exists(LabelledImage image) =>
        File.Exists(image.Path) ? null : new ImageReadException(image.Path, "the file does not exist", "an existing image file");

    private static ImageReadException? Decode(LabelledImage image)
    {
        int width, height;
        try
        {
            using var mat = ImageReader.Read(image.Path);
            (width, height) = (mat.Width, mat.Height);
        }
        catch (ImageReadException e)
        {
            return e;
        }

        if (image.MaskPath is not null)
            CheckMask(image.MaskPath, image.Path, width, height);
        return null;
    }

    private static void CheckMask(string maskPath, string imagePath, int width, int height)
    {
        int maskWidth, maskHeight;
        try
        {
            using var mask = ImageReader.Read(maskPath);
            (maskWidth, maskHeight) = (mask.Width, mask.Height);
        }
        catch (ImageReadException e)
        {
            throw new DataProblemException($"mask '{maskPath}' of image '{imagePath}' cannot be read: {e.Message}", e);
        }

        if (maskWidth != width || maskHeight != height)
            throw new DataProblemException($"mask '{maskPath}' is {maskWidth}x{maskHeight} but its image '{imagePath}' is {width}x{height}; expected the same size");
    }
}
