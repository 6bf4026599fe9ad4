using DefectInspector.Training.Data;

namespace DefectInspector.Training.Tests.Data;

public sealed class GroupPatternTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void First_capture_group_of_the_file_name_is_the_group()
    {
        TestImages.Write(temp, "good/exp1_a.png");
        TestImages.Write(temp, "good/exp12_b.png");
        TestImages.Write(temp, "crack/exp2_c.png");

        var data = DatasetReader.Open(temp.Path, new DatasetReadOptions(GroupPattern: @"^(exp\d+)_"));

        Assert.Equal(["exp2", "exp12", "exp1"], data.Images.Select(i => i.Group));
        Assert.Equal(["exp1", "exp12", "exp2"], data.Groups);
    }

    [Fact]
    public void Pattern_replaces_the_manifest_group()
    {
        TestImages.Write(temp, "exp3_a.png");
        var manifest = temp.Text("index.csv", "image,label,group\nexp3_a.png,good,session-9\n");

        Assert.Equal("session-9", Assert.Single(DatasetReader.Open(manifest, new DatasetReadOptions()).Images).Group);
        Assert.Equal("exp3", Assert.Single(DatasetReader.Open(manifest, new DatasetReadOptions(GroupPattern: @"^(exp\d+)_")).Images).Group);
    }

    [Fact]
    public void File_name_that_does_not_match_names_file_and_pattern()
    {
        TestImages.Write(temp, "good/exp1_a.png");
        var stray = TestImages.Write(temp, "good/session1_b.png");

        var e = Assert.Throws<DataProblemException>(() => DatasetReader.Open(temp.Path, new DatasetReadOptions(GroupPattern: @"^(exp\d+)_")));

        Assert.Contains($"image '{stray}'", e.Message);
        Assert.Contains(@"group pattern '^(exp\d+)_'", e.Message);
    }

    [Theory]
    [InlineData(@"^exp\d+_", "has no capture group")]
    [InlineData(@"^(exp\d+_", "is not a valid regular expression")]
    public void Unusable_pattern_is_an_argument_error(string pattern, string problem)
    {
        TestImages.Write(temp, "good/exp1_a.png");

        var e = Assert.Throws<ArgumentException>(() => DatasetReader.Open(temp.Path, new DatasetReadOptions(GroupPattern: pattern)));

        Assert.Contains(problem, e.Message);
    }
}
