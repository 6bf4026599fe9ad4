using DefectInspector.Training.Data;

namespace DefectInspector.Training.Tests.Data;

public sealed class DatasetLayoutTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void Mvtec_ad_is_detected_with_splits_kinds_and_masks()
    {
        TestImages.Write(temp, "train/good/000.png");
        TestImages.Write(temp, "train/good/001.png");
        TestImages.Write(temp, "test/good/000.png");
        TestImages.Write(temp, "test/crack/000.png");
        TestImages.Write(temp, "test/crack/001.png");
        TestImages.Write(temp, "test/scratch/000.png");
        TestImages.Mask(temp, "ground_truth/crack/000_mask.png");
        TestImages.Mask(temp, "ground_truth/crack/001_mask.png");
        TestImages.Mask(temp, "ground_truth/scratch/000_mask.png");
        temp.Text("license.txt", "not an image");

        var data = DatasetReader.Open(temp.Path, new DatasetReadOptions());

        Assert.Equal(DatasetFormat.MvtecAd, data.Format);
        Assert.Equal(["good", "crack", "scratch"], data.Kinds);
        Assert.Equal(6, data.Images.Count);
        Assert.All(data.Images.Where(i => i.Path.Contains("/train/")), i => Assert.Equal(("train", "good", (string?)null), (i.Split, i.Kind, i.MaskPath)));
        Assert.All(data.Images.Where(i => i.Path.Contains("/test/")), i => Assert.Equal("test", i.Split));
        var crack = data.Images.Single(i => i.Path == temp.File("test/crack/001.png"));
        Assert.Equal(("crack", temp.File("ground_truth/crack/001_mask.png")), (crack.Kind, crack.MaskPath));
        Assert.Null(data.Images.Single(i => i.Path == temp.File("test/good/000.png")).MaskPath);
        Assert.Equal(0, data.Skipped);
    }

    [Fact]
    public void Mvtec_ad_defect_without_its_mask_names_the_expected_mask()
    {
        TestImages.Write(temp, "train/good/000.png");
        TestImages.Write(temp, "test/crack/000.png");
        TestImages.Write(temp, "test/crack/001.png");
        TestImages.Mask(temp, "ground_truth/crack/000_mask.png");

        var e = Assert.Throws<DataProblemException>(() => DatasetReader.Open(temp.Path, new DatasetReadOptions()));

        Assert.Contains(temp.File("ground_truth/crack/001_mask.png"), e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void Image_folder_reads_classes_with_good_in_any_case_and_kinds_in_ordinal_order()
    {
        TestImages.Write(temp, "GOOD/a.png");
        TestImages.Write(temp, "GOOD/b.jpg");
        TestImages.Write(temp, "b_kind/a.bmp");
        TestImages.Write(temp, "a_kind/a.tif");
        TestImages.Write(temp, "A_kind/a.jpeg");
        temp.Text("a_kind/notes.txt", "ignored: not an image");
        temp.Text("readme.md", "ignored");

        var data = DatasetReader.Open(temp.Path, new DatasetReadOptions());

        Assert.Equal(DatasetFormat.ImageFolder, data.Format);
        Assert.Equal(["good", "A_kind", "a_kind", "b_kind"], data.Kinds);
        Assert.Equal(5, data.Images.Count);
        Assert.Equal(2, data.GoodCount);
        Assert.False(data.HasMasks);
        Assert.All(data.Images, i => Assert.Null(i.Split));
        Assert.Equal("a_kind", data.Images.Single(i => i.Path == temp.File("a_kind/a.tif")).Kind);
    }

    [Fact]
    public void Image_folder_class_without_images_is_named()
    {
        TestImages.Write(temp, "good/a.png");
        TestImages.Write(temp, "crack/deeper/a.png");

        var e = Assert.Throws<DataProblemException>(() => DatasetReader.Open(temp.Path, new DatasetReadOptions()));

        Assert.Contains("class 'crack'", e.Message);
        Assert.Contains(Path.Combine(temp.Path, "crack"), e.Message);
        Assert.Contains("has no images", e.Message);
    }

    [Fact]
    public void Missing_path_is_named()
    {
        var missing = Path.Combine(temp.Path, "nowhere");

        var e = Assert.Throws<DataProblemException>(() => DatasetReader.Open(missing, new DatasetReadOptions()));

        Assert.Contains($"'{missing}' does not exist", e.Message);
    }

    [Fact]
    public void Folder_matching_no_layout_is_named_with_what_was_expected()
    {
        TestImages.Write(temp, "loose.png");
        TestImages.Write(temp, "nested/deeper/a.png");

        var e = Assert.Throws<DataProblemException>(() => DatasetReader.Open(temp.Path, new DatasetReadOptions()));

        Assert.Contains($"'{temp.Path}' matches no dataset layout", e.Message);
        Assert.Contains("MVTec AD", e.Message);
    }

    [Fact]
    public void Folder_holding_a_manifest_points_at_it()
    {
        TestImages.Write(temp, "MT_Free/Imgs/a.jpg");
        temp.Text("index.csv", "image,label\nMT_Free/Imgs/a.jpg,good\n");

        var e = Assert.Throws<DataProblemException>(() => DatasetReader.Open(temp.Path, new DatasetReadOptions()));

        Assert.Contains("'index.csv'", e.Message);
    }

    [Fact]
    public void File_that_is_no_manifest_is_named()
    {
        var image = TestImages.Write(temp, "a.png");

        var e = Assert.Throws<DataProblemException>(() => DatasetReader.Open(image, new DatasetReadOptions()));

        Assert.Contains($"'{image}' is a file but not a .csv manifest", e.Message);
    }
}
