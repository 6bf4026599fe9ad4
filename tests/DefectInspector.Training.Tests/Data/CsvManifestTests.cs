using DefectInspector.Training.Data;

namespace DefectInspector.Training.Tests.Data;

public sealed class CsvManifestTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private string Manifest(string text) => temp.Text("data/index.csv", text);

    private DataProblemException Fails(string manifest, DatasetReadOptions? options = null) =>
        Assert.Throws<DataProblemException>(() => DatasetReader.Open(manifest, options ?? new DatasetReadOptions()));

    [Fact]
    public void Reads_kinds_masks_splits_and_groups_with_quoted_fields_and_any_header_case()
    {
        TestImages.Write(temp, "data/imgs/free 1.png");
        TestImages.Write(temp, "data/imgs/crack,2.jpg");
        TestImages.Mask(temp, "data/masks/crack,2.png");
        TestImages.Write(temp, "data/imgs/say \"hi\".png");
        TestImages.Write(temp, "data/imgs/plain.png");
        var manifest = Manifest(
            "Group,IMAGE,label,class,mask,split\r\n" +
            "g1,imgs/free 1.png,good,MT_Free,,train\r\n" +
            "g2,\"imgs/crack,2.jpg\",defect,MT_Crack,\"masks/crack,2.png\",val\r\n" +
            "g1,\"imgs/say \"\"hi\"\".png\",scratch,,,Test\r\n" +
            ",imgs/plain.png,defect,,,train\r\n");

        var data = DatasetReader.Open(manifest, new DatasetReadOptions());

        Assert.Equal(DatasetFormat.CsvManifest, data.Format);
        Assert.Equal(temp.File("data"), data.Root);
        Assert.Equal(["good", "MT_Crack", "defect", "scratch"], data.Kinds);
        Assert.Collection(data.Images,
            i => Assert.Equal(new LabelledImage(temp.File("data/imgs/free 1.png"), "good", null, "g1", "train"), i),
            i => Assert.Equal(new LabelledImage(temp.File("data/imgs/crack,2.jpg"), "MT_Crack", temp.File("data/masks/crack,2.png"), "g2", "val"), i),
            i => Assert.Equal(new LabelledImage(temp.File("data/imgs/say \"hi\".png"), "scratch", null, "g1", "test"), i),
            i => Assert.Equal(new LabelledImage(temp.File("data/imgs/plain.png"), "defect", null, null, "train"), i));
    }

    [Fact]
    public void Absolute_path_inside_the_manifest_folder_is_accepted()
    {
        var image = TestImages.Write(temp, "data/a.png");

        var data = DatasetReader.Open(Manifest($"image,label\n{image},good\n"), new DatasetReadOptions());

        Assert.Equal(image, Assert.Single(data.Images).Path);
    }

    [Fact]
    public void Missing_required_column_is_named_with_the_columns_found()
    {
        var manifest = Manifest("image,mask,kind\na.png,,good\n");

        var e = Fails(manifest);

        Assert.Contains(manifest, e.Message);
        Assert.Contains("no 'label' column", e.Message);
        Assert.Contains("found 'image', 'mask', 'kind'", e.Message);
    }

    [Theory]
    [InlineData("../outside.png")]
    [InlineData("imgs/../../outside.png")]
    [InlineData("/etc/hostname.png")]
    public void Path_leading_outside_the_manifest_folder_names_row_and_path(string path)
    {
        TestImages.Write(temp, "data/a.png");
        TestImages.Write(temp, "outside.png");
        var manifest = Manifest($"image,label\na.png,good\n{path},good\n");

        var e = Fails(manifest);

        Assert.Contains(manifest, e.Message);
        Assert.Contains("row 2 (line 3)", e.Message);
        Assert.Contains($"image path '{path}' leads outside", e.Message);
    }

    [Fact]
    public void Mask_leading_outside_the_manifest_folder_is_named()
    {
        TestImages.Write(temp, "data/a.png");
        var e = Fails(Manifest("image,label,mask\na.png,defect,../a_mask.png\n"));

        Assert.Contains("row 1 (line 2)", e.Message);
        Assert.Contains("mask path '../a_mask.png' leads outside", e.Message);
    }

    [Fact]
    public void Missing_mask_file_is_named()
    {
        TestImages.Write(temp, "data/a.png");

        var e = Fails(Manifest("image,label,mask\na.png,defect,a_mask.png\n"), new DatasetReadOptions(CheckImages: false));

        Assert.Contains($"mask '{temp.File("data/a_mask.png")}'", e.Message);
        Assert.Contains("does not exist", e.Message);
    }

    [Theory]
    [InlineData("a.png,defect,good", "says defect but class 'good'")]
    [InlineData("a.png,crack,scratch", "label 'crack' and class 'scratch' name different kinds")]
    [InlineData(",good,", "the image cell is empty")]
    [InlineData("a.png,,", "the label cell is empty")]
    public void Row_that_cannot_be_labelled_names_its_row(string row, string problem)
    {
        TestImages.Write(temp, "data/a.png");
        var manifest = Manifest($"image,label,class\n{row}\n");

        var e = Fails(manifest);

        Assert.Contains($"manifest '{manifest}' row 1 (line 2)", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void Unknown_split_names_row_and_value()
    {
        TestImages.Write(temp, "data/a.png");

        var e = Fails(Manifest("image,label,split\na.png,good,dev\n"));

        Assert.Contains("row 1 (line 2): split 'dev' is not one of train, val, validation, test", e.Message);
    }

    [Fact]
    public void Image_listed_twice_names_both_rows()
    {
        TestImages.Write(temp, "data/a.png");

        var e = Fails(Manifest("image,label\na.png,good\nb/../a.png,crack\n"));

        Assert.Contains("row 2 (line 3)", e.Message);
        Assert.Contains("first on row 1", e.Message);
    }

    [Fact]
    public void Malformed_csv_names_the_manifest_and_line()
    {
        TestImages.Write(temp, "data/a.png");
        var manifest = Manifest("image,label\na.png,good\n\"b.png,good\n");

        var e = Fails(manifest);

        Assert.Contains($"manifest '{manifest}' is not valid CSV", e.Message);
        Assert.Contains("line 3", e.Message);
    }

    [Fact]
    public void Ragged_row_is_an_error_not_a_shifted_label()
    {
        TestImages.Write(temp, "data/a.png");

        var e = Fails(Manifest("image,label\na.png,good,extra\n"));

        Assert.Contains("3 fields but 2 were expected", e.Message);
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("image,label\n", "has no rows")]
    public void Empty_manifest_is_named(string text, string problem)
    {
        var manifest = Manifest(text);

        var e = Fails(manifest);

        Assert.Contains($"manifest '{manifest}' {problem}", e.Message);
    }
}
