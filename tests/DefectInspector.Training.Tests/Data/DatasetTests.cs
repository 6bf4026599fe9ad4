using DefectInspector.Training.Data;

namespace DefectInspector.Training.Tests.Data;

public sealed class DatasetTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    private static Dataset InMemory(params LabelledImage[] images) =>
        new("/data/index.csv", DatasetFormat.CsvManifest, images, DatasetKinds.Of(images));

    [Fact]
    public void Defect_only_data_reads_but_cannot_train()
    {
        TestImages.Write(temp, "crack/a.png");
        TestImages.Write(temp, "dent/a.png");

        var data = DatasetReader.Open(temp.Path, new DatasetReadOptions());
        var e = Assert.Throws<DataProblemException>(() => data.RequireBothClasses());

        Assert.Equal(["good", "crack", "dent"], data.Kinds);
        Assert.Contains($"dataset '{temp.Path}' has no good images", e.Message);
    }

    [Fact]
    public void Good_only_data_cannot_train()
    {
        var e = Assert.Throws<DataProblemException>(() => InMemory(new LabelledImage("/data/a.png", "good")).RequireBothClasses());

        Assert.Contains("has no defect images", e.Message);
    }

    [Fact]
    public void Data_with_both_classes_can_train()
    {
        var data = InMemory(new LabelledImage("/data/a.png", "good"), new LabelledImage("/data/b.png", "crack"));

        Assert.Same(data, data.RequireBothClasses());
    }

    [Fact]
    public void Select_groups_keeps_those_groups_and_the_class_list()
    {
        var data = InMemory(
            new LabelledImage("/data/a.png", "good", Group: "exp1"),
            new LabelledImage("/data/b.png", "crack", Group: "exp1"),
            new LabelledImage("/data/c.png", "good", Group: "exp5"),
            new LabelledImage("/data/d.png", "dent", Group: "exp4"));

        var exp5 = data.SelectGroups(["exp5"]);
        var two = data.SelectGroups(["exp4", "exp5"]);

        Assert.Equal(["/data/c.png"], exp5.Images.Select(i => i.Path));
        Assert.Equal(data.Kinds, exp5.Kinds);
        Assert.Equal(["/data/c.png", "/data/d.png"], two.Images.Select(i => i.Path));
    }

    [Fact]
    public void Select_groups_names_a_group_that_is_not_there()
    {
        var data = InMemory(new LabelledImage("/data/a.png", "good", Group: "exp1"), new LabelledImage("/data/b.png", "crack", Group: "exp2"));

        var e = Assert.Throws<DataProblemException>(() => data.SelectGroups(["exp9"]));

        Assert.Contains("no group 'exp9'", e.Message);
        Assert.Contains("its groups are exp1, exp2", e.Message);
    }

    [Fact]
    public void Select_groups_on_data_without_groups_says_how_to_get_them()
    {
        var e = Assert.Throws<DataProblemException>(() => InMemory(new LabelledImage("/data/a.png", "good")).SelectGroups(["exp1"]));

        Assert.Contains("group pattern", e.Message);
    }

    [Fact]
    public void Filter_keeps_what_the_predicate_accepts()
    {
        var data = InMemory(new LabelledImage("/data/a.png", "good"), new LabelledImage("/data/b.png", "crack"));

        Assert.Equal(["/data/b.png"], data.Filter(i => i.IsDefect).Images.Select(i => i.Path));
    }

    private string WriteSmallDataset(string root)
    {
        TestImages.Write(temp, $"{root}/a.png");
        TestImages.Write(temp, $"{root}/b.png", grey: 20);
        TestImages.Mask(temp, $"{root}/b_mask.png");
        return temp.Text($"{root}/index.csv", "image,label,mask\na.png,good,\nb.png,crack,b_mask.png\n");
    }

    [Fact]
    public void Fingerprint_is_sha256_hex_and_does_not_depend_on_location_or_row_order()
    {
        var first = DatasetReader.Open(WriteSmallDataset("one"), new DatasetReadOptions()).Fingerprint();
        WriteSmallDataset("two/deeper");
        var reordered = temp.Text("two/deeper/index.csv", "image,label,mask\nb.png,crack,b_mask.png\na.png,good,\n");
        var second = DatasetReader.Open(reordered, new DatasetReadOptions()).Fingerprint();

        Assert.Matches("^[0-9a-f]{64}$", first);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Fingerprint_changes_with_a_label_a_file_size_or_a_mask()
    {
        var manifest = WriteSmallDataset("one");
        var original = DatasetReader.Open(manifest, new DatasetReadOptions()).Fingerprint();

        temp.Text("one/index.csv", "image,label,mask\na.png,good,\nb.png,dent,b_mask.png\n");
        var relabelled = DatasetReader.Open(manifest, new DatasetReadOptions()).Fingerprint();
        temp.Text("one/index.csv", "image,label,mask\na.png,good,\nb.png,crack,\n");
        var maskless = DatasetReader.Open(manifest, new DatasetReadOptions()).Fingerprint();
        temp.Text("one/index.csv", "image,label,mask\na.png,good,\nb.png,crack,b_mask.png\n");
        TestImages.Write(temp, "one/a.png", width: 64, height: 64);
        var resized = DatasetReader.Open(manifest, new DatasetReadOptions()).Fingerprint();

        Assert.Equal(4, new[] { original, relabelled, maskless, resized }.Distinct().Count());
    }

    [Fact]
    public void Fingerprint_of_a_vanished_file_names_it()
    {
        var data = DatasetReader.Open(WriteSmallDataset("one"), new DatasetReadOptions());
        File.Delete(temp.File("one/a.png"));

        var e = Assert.Throws<DataProblemException>(() => data.Fingerprint());

        Assert.Contains(temp.File("one/a.png"), e.Message);
    }
}
