using DefectInspector.Training.Data;

namespace DefectInspector.Training.Tests.Data;

public sealed class DatasetSplitterTests
{
    private static Dataset InMemory(IEnumerable<LabelledImage> images)
    {
        var list = images.ToList();
        return new Dataset("/data", DatasetFormat.ImageFolder, list, DatasetKinds.Of(list));
    }

    private static IEnumerable<LabelledImage> Images(string kind, int count, string? group = null, string? split = null) =>
        Enumerable.Range(0, count).Select(i => new LabelledImage($"/data/{group}/{kind}/{i:D3}.png", kind, Group: group, Split: split));

    private static Dataset Stratifiable() =>
        InMemory(Images("good", 20).Concat(Images("crack", 10)).Concat(Images("scratch", 3)).Concat(Images("dent", 1)).Concat(Images("pit", 2)));

    [Fact]
    public void Stratified_split_takes_the_fraction_of_every_kind_and_one_of_each_kind_with_two()
    {
        var data = Stratifiable();

        var (train, validation) = DatasetSplitter.Split(data, new SplitOptions());

        var perKind = validation.GroupBy(i => i.Kind).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new Dictionary<string, int> { ["good"] = 4, ["crack"] = 2, ["scratch"] = 1, ["pit"] = 1 }, perKind);
        Assert.Empty(train.Intersect(validation));
        Assert.Equal(data.Images.Select(i => i.Path).Order(), train.Concat(validation).Select(i => i.Path).Order());
        Assert.Contains(train, i => i.Kind == "dent");
    }

    [Fact]
    public void Stratified_split_is_deterministic_for_a_seed_whatever_the_image_order()
    {
        var data = Stratifiable();
        var shuffled = data with { Images = data.Images.Reverse().ToList() };

        var first = DatasetSplitter.Split(data, new SplitOptions(Seed: 7));
        var again = DatasetSplitter.Split(shuffled, new SplitOptions(Seed: 7));

        Assert.Equal(first.Validation, again.Validation);
        Assert.Equal(first.Train, again.Train);
    }

    [Fact]
    public void Stratified_split_differs_for_another_seed()
    {
        var data = Stratifiable();

        var seed0 = DatasetSplitter.Split(data, new SplitOptions(Seed: 0)).Validation;
        var seed1 = DatasetSplitter.Split(data, new SplitOptions(Seed: 1)).Validation;

        Assert.Equal(seed0.Count, seed1.Count);
        Assert.NotEqual(seed0, seed1);
    }

    [Fact]
    public void Both_sides_come_back_sorted_by_path()
    {
        var (train, validation) = DatasetSplitter.Split(Stratifiable(), new SplitOptions(Seed: 3));

        Assert.Equal(train.Select(i => i.Path).Order(StringComparer.Ordinal), train.Select(i => i.Path));
        Assert.Equal(validation.Select(i => i.Path).Order(StringComparer.Ordinal), validation.Select(i => i.Path));
    }

    private static Dataset Sessions(int count, int goodPerSession = 16, int crackPerSession = 4) =>
        InMemory(Enumerable.Range(1, count).SelectMany(s => Images("good", goodPerSession, $"exp{s}").Concat(Images("crack", crackPerSession, $"exp{s}"))));

    [Fact]
    public void Grouped_split_never_puts_a_group_on_both_sides_and_keeps_near_the_fraction()
    {
        var data = InMemory(Sessions(6).Images
            .Concat(Images("good", 30, "big")).Concat(Images("crack", 10, "big"))
            .Concat(Images("dent", 2, "exp2")).Concat(Images("dent", 2, "exp5")));

        for (var seed = 0; seed < 10; seed++)
        {
            var (train, validation) = DatasetSplitter.Split(data, new SplitOptions(ValidationFraction: 0.25, Seed: seed, GroupBy: true));

            var trainGroups = train.Select(i => i.Group).ToHashSet();
            Assert.DoesNotContain(validation, i => trainGroups.Contains(i.Group));
            Assert.Equal(data.Images.Count, train.Count + validation.Count);
            var share = (double)validation.Count / data.Images.Count;
            Assert.InRange(share, 0.15, 0.35);
            Assert.Equal(["crack", "dent", "good"], validation.Select(i => i.Kind).Distinct().Order());
            Assert.Equal(["crack", "dent", "good"], train.Select(i => i.Kind).Distinct().Order());
        }
    }

    [Fact]
    public void Grouped_split_picks_different_groups_for_different_seeds_and_the_same_for_the_same_seed()
    {
        var data = Sessions(5);

        string Validated(int seed) =>
            string.Join(",", DatasetSplitter.Split(data, new SplitOptions(Seed: seed, GroupBy: true)).Validation.Select(i => i.Group).Distinct());

        var picks = Enumerable.Range(0, 10).Select(Validated).ToList();

        Assert.All(picks, p => Assert.DoesNotContain(",", p));
        Assert.True(picks.Distinct().Count() > 1, $"every seed validated on {picks[0]}");
        Assert.Equal(picks, Enumerable.Range(0, 10).Select(Validated));
    }

    [Fact]
    public void Grouped_split_keeps_a_kind_seen_in_one_group_only_for_training()
    {
        var data = InMemory(Sessions(4).Images.Concat(Images("fray", 3, "exp3")));

        for (var seed = 0; seed < 10; seed++)
            Assert.Contains(DatasetSplitter.Split(data, new SplitOptions(Seed: seed, GroupBy: true)).Train, i => i.Kind == "fray");
    }

    [Fact]
    public void Grouped_split_scales_past_the_exhaustive_search()
    {
        var data = Sessions(40, goodPerSession: 3, crackPerSession: 1);

        var (train, validation) = DatasetSplitter.Split(data, new SplitOptions(ValidationFraction: 0.3, Seed: 4, GroupBy: true));

        Assert.Empty(validation.Select(i => i.Group).Intersect(train.Select(i => i.Group)));
        Assert.Equal(12, validation.Select(i => i.Group).Distinct().Count());
    }

    [Fact]
    public void Grouped_split_needs_two_groups()
    {
        var e = Assert.Throws<DataProblemException>(() => DatasetSplitter.Split(Sessions(1), new SplitOptions(GroupBy: true)));

        Assert.Contains("at least two groups", e.Message);
        Assert.Contains("'exp1'", e.Message);
    }

    [Fact]
    public void Grouped_split_names_an_image_without_a_group()
    {
        var data = InMemory(Sessions(2).Images.Append(new LabelledImage("/data/loose.png", "good")));

        var e = Assert.Throws<DataProblemException>(() => DatasetSplitter.Split(data, new SplitOptions(GroupBy: true)));

        Assert.Contains("image '/data/loose.png' has no group", e.Message);
    }

    [Fact]
    public void Explicit_validation_groups_are_exactly_the_validation_set()
    {
        var data = Sessions(5);

        var (train, validation) = DatasetSplitter.Split(data, new SplitOptions(ValidationGroups: ["exp4", "exp2"]));

        Assert.Equal(["exp2", "exp4"], validation.Select(i => i.Group).Distinct().Order());
        Assert.Equal(40, validation.Count);
        Assert.Equal(["exp1", "exp3", "exp5"], train.Select(i => i.Group).Distinct().Order());
    }

    [Fact]
    public void Explicit_validation_group_that_is_not_there_is_named()
    {
        var e = Assert.Throws<DataProblemException>(() => DatasetSplitter.Split(Sessions(3), new SplitOptions(ValidationGroups: ["exp7"])));

        Assert.Contains("no group 'exp7'", e.Message);
        Assert.Contains("exp1, exp2, exp3", e.Message);
    }

    [Fact]
    public void Validating_on_every_group_leaves_nothing_to_train()
    {
        var e = Assert.Throws<DataProblemException>(() => DatasetSplitter.Split(Sessions(2), new SplitOptions(ValidationGroups: ["exp1", "exp2"])));

        Assert.Contains("no images to train on", e.Message);
    }

    [Fact]
    public void Split_named_by_the_data_is_used_and_test_images_are_left_out()
    {
        var data = InMemory(Images("good", 4, split: "train").Concat(Images("crack", 2, split: "val"))
            .Concat(Images("dent", 1, split: "validation")).Concat(Images("pit", 3, split: "test")));

        var (train, validation) = DatasetSplitter.Split(data, new SplitOptions(Seed: 9));

        Assert.All(train, i => Assert.Equal("good", i.Kind));
        Assert.Equal(4, train.Count);
        Assert.Equal(["crack", "crack", "dent"], validation.Select(i => i.Kind));
    }

    [Fact]
    public void Data_that_names_train_and_test_only_has_validation_carved_from_train()
    {
        var data = InMemory(Images("good", 10, split: "train").Concat(Images("crack", 5, split: "test")));

        var (train, validation) = DatasetSplitter.Split(data, new SplitOptions());

        Assert.Equal((8, 2), (train.Count, validation.Count));
        Assert.All(train.Concat(validation), i => Assert.Equal("train", i.Split));
    }

    [Fact]
    public void Validation_groups_conflict_with_a_validation_split_named_by_the_data()
    {
        var data = InMemory(Images("good", 2, "exp1", "train").Concat(Images("good", 2, "exp2", "val")));

        var e = Assert.Throws<DataProblemException>(() => DatasetSplitter.Split(data, new SplitOptions(ValidationGroups: ["exp1"])));

        Assert.Contains("names its own validation images", e.Message);
    }

    [Fact]
    public void Data_where_only_some_images_name_a_split_is_an_error()
    {
        var data = InMemory(Images("good", 2, split: "train").Concat(Images("crack", 2)));

        var e = Assert.Throws<DataProblemException>(() => DatasetSplitter.Split(data, new SplitOptions()));

        Assert.Contains("names none", e.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(-0.2)]
    [InlineData(double.NaN)]
    public void Fraction_outside_zero_to_one_is_rejected(double fraction)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => DatasetSplitter.Split(Stratifiable(), new SplitOptions(ValidationFraction: fraction)));

        Assert.Contains("strictly between 0 and 1", e.Message);
    }

    [Fact]
    public void Empty_validation_group_list_is_rejected()
    {
        var e = Assert.Throws<ArgumentException>(() => DatasetSplitter.Split(Sessions(2), new SplitOptions(ValidationGroups: [])));

        Assert.Contains("at least one group", e.Message);
    }
}
