using DefectInspector.Training.Data;

namespace DefectInspector.Training.Tests.Data;

/// <summary>The real manifest in ../shared, read as it is.</summary>
public sealed class MagneticTileManifestTests
{
    private const string SessionPattern = @"^(exp\d+)_";

    private static string Manifest => Path.Combine(SharedData.MagneticTile!, "index_images.csv");

    private static Dataset Read() => DatasetReader.Open(Manifest, new DatasetReadOptions(GroupPattern: SessionPattern, CheckImages: false));

    [MagneticTileFact]
    public void Manifest_reads_every_image_with_its_kind_mask_and_session()
    {
        var data = Read();

        Assert.Equal(DatasetFormat.CsvManifest, data.Format);
        Assert.Equal((1116, 793, 323, 0), (data.Images.Count, data.GoodCount, data.DefectCount, data.Skipped));
        Assert.Equal(["good", "MT_Blowhole", "MT_Break", "MT_Crack", "MT_Fray", "MT_Uneven"], data.Kinds);
        Assert.Equal(["exp1", "exp2", "exp3", "exp4", "exp5"], data.Groups);
        Assert.All(data.Images, i => Assert.True(File.Exists(i.MaskPath), $"mask of {i.Path}"));
        var crack = data.Images.Single(i => i.Path.EndsWith("/MT_Crack/Imgs/exp1_num_249594.jpg", StringComparison.Ordinal));
        Assert.Equal(("MT_Crack", "exp1"), (crack.Kind, crack.Group));
        Assert.Equal(Path.ChangeExtension(crack.Path, ".png"), crack.MaskPath);
        data.RequireBothClasses();
    }

    [MagneticTileFact]
    public void Sessions_split_whole_and_one_can_be_held_out_for_evaluation()
    {
        var data = Read();

        var (train, validation) = DatasetSplitter.Split(data, new SplitOptions(GroupBy: true));
        var held = DatasetSplitter.Split(data, new SplitOptions(ValidationGroups: ["exp4"]));
        var exp5 = data.SelectGroups(["exp5"]);

        Assert.Empty(train.Select(i => i.Group).Intersect(validation.Select(i => i.Group)));
        Assert.Single(validation.Select(i => i.Group).Distinct());
        Assert.Equal(data.Kinds.Skip(1), validation.Where(i => i.IsDefect).Select(i => i.Kind).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal((224, 892), (held.Validation.Count, held.Train.Count));
        Assert.Equal(225, exp5.Images.Count);
    }

    [MagneticTileFact]
    public void Checked_subset_of_real_images_and_masks_passes_strict_reading()
    {
        using var temp = new TempFolder();
        var source = SharedData.MagneticTile!;
        var lines = File.ReadAllLines(Manifest);
        // Every 100th row: all classes and sessions appear, and copying a dozen files stays fast.
        var rows = lines.Skip(1).Where((_, index) => index % 100 == 0).ToList();
        // The real manifest quotes nothing, so a plain split finds its image and mask columns.
        foreach (var fields in rows.Select(r => r.Split(',')))
        {
            File.Copy(Path.Combine(source, fields[0]), temp.File(fields[0]));
            File.Copy(Path.Combine(source, fields[1]), temp.File(fields[1]));
        }

        var manifest = temp.Text("index_images.csv", string.Join('\n', rows.Prepend(lines[0])) + "\n");
        var data = DatasetReader.Open(manifest, new DatasetReadOptions(Strict: true, GroupPattern: SessionPattern));

        Assert.Equal(rows.Count, data.Images.Count);
        Assert.True(data.Images.Select(i => i.Kind).Distinct().Count() >= 4);
        Assert.Equal(0, data.Skipped);
    }
}
