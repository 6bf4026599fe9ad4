using DefectInspector.Training.Data;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Training.Tests.Data;

public sealed class ImageCheckTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private string FolderWithOneCorruptImage()
    {
        TestImages.Write(temp, "good/a.png");
        TestImages.Write(temp, "crack/a.jpg");
        return TestImages.Corrupt(temp, "crack/b.png");
    }

    [Fact]
    public void Corrupt_image_is_skipped_counted_and_logged()
    {
        var corrupt = FolderWithOneCorruptImage();
        var log = new ListLogger();

        var data = DatasetReader.Open(temp.Path, new DatasetReadOptions(), log);

        Assert.Equal(1, data.Skipped);
        Assert.Equal(2, data.Images.Count);
        Assert.DoesNotContain(data.Images, i => i.Path == corrupt);
        var warning = Assert.Single(log.Entries);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains(corrupt, warning.Message);
    }

    [Fact]
    public void Corrupt_image_is_fatal_when_strict()
    {
        var corrupt = FolderWithOneCorruptImage();

        var e = Assert.Throws<DataProblemException>(() => DatasetReader.Open(temp.Path, new DatasetReadOptions(Strict: true)));

        Assert.Contains($"image '{corrupt}'", e.Message);
    }

    [Fact]
    public void Without_image_checks_a_corrupt_image_goes_through_but_a_missing_one_does_not()
    {
        var corrupt = FolderWithOneCorruptImage();
        var manifest = temp.Text("index.csv", "image,label\ngood/a.png,good\ncrack/b.png,crack\ncrack/gone.png,crack\n");

        var data = DatasetReader.Open(manifest, new DatasetReadOptions(CheckImages: false));

        Assert.Equal([temp.File("good/a.png"), corrupt], data.Images.Select(i => i.Path));
        Assert.Equal(1, data.Skipped);
    }

    [Fact]
    public void Dataset_whose_images_are_all_unreadable_is_an_error()
    {
        TestImages.Corrupt(temp, "good/a.png");

        var e = Assert.Throws<DataProblemException>(() => DatasetReader.Open(temp.Path, new DatasetReadOptions()));

        Assert.Contains($"dataset '{temp.Path}' has no usable images", e.Message);
    }

    [Fact]
    public void Mask_of_another_size_is_fatal_and_names_both_sizes()
    {
        TestImages.Write(temp, "a.png", width: 32, height: 32);
        var mask = TestImages.Mask(temp, "a_mask.png", width: 40, height: 32);
        var manifest = temp.Text("index.csv", "image,label,mask\na.png,defect,a_mask.png\n");

        var e = Assert.Throws<DataProblemException>(() => DatasetReader.Open(manifest, new DatasetReadOptions()));

        Assert.Contains($"mask '{mask}' is 40x32", e.Message);
        Assert.Contains("is 32x32", e.Message);
    }

    [Fact]
    public void Unreadable_mask_is_fatal_even_when_not_strict()
    {
        TestImages.Write(temp, "a.png");
        var mask = TestImages.Corrupt(temp, "a_mask.png");
        var manifest = temp.Text("index.csv", "image,label,mask\na.png,defect,a_mask.png\n");

        var e = Assert.Throws<DataProblemException>(() => DatasetReader.Open(manifest, new DatasetReadOptions()));

        Assert.Contains($"mask '{mask}'", e.Message);
        Assert.Contains("cannot be read", e.Message);
    }

    [Fact]
    public void Mask_of_the_same_size_passes()
    {
        TestImages.Write(temp, "a.jpg", width: 24, height: 40);
        TestImages.Mask(temp, "a.png", width: 24, height: 40);
        var manifest = temp.Text("index.csv", "image,label,mask\na.jpg,defect,a.png\n");

        var data = DatasetReader.Open(manifest, new DatasetReadOptions(Strict: true));

        Assert.Equal(temp.File("a.png"), Assert.Single(data.Images).MaskPath);
    }
}
