using DefectInspector.Training.Calibrate;

namespace DefectInspector.Training.Tests.Calibrate;

public sealed class ThresholdGoalTests
{
    [Theory]
    [InlineData("escape=0.01", ThresholdGoalKind.EscapeRate, 0.01)]
    [InlineData(" ESCAPE=0 ", ThresholdGoalKind.EscapeRate, 0.0)]
    [InlineData("f1", ThresholdGoalKind.F1, 0.0)]
    [InlineData("F1", ThresholdGoalKind.F1, 0.0)]
    [InlineData("0.4", ThresholdGoalKind.Fixed, 0.4)]
    public void Parses_the_three_forms(string text, ThresholdGoalKind kind, double value)
    {
        Assert.Equal(new ThresholdGoal(kind, value), ThresholdGoal.Parse(text));
    }

    [Theory]
    [InlineData("escape=0.01")]
    [InlineData("f1")]
    [InlineData("0.4")]
    public void Round_trips_through_its_text(string text)
    {
        Assert.Equal(text, ThresholdGoal.Parse(text).ToString());
    }

    [Theory]
    [InlineData("escape=", "a fraction in [0, 1)")]
    [InlineData("escape=1", "[0, 1)")]
    [InlineData("escape=-0.1", "[0, 1)")]
    [InlineData("0", "strictly between 0 and 1")]
    [InlineData("1.5", "strictly between 0 and 1")]
    [InlineData("recall=0.9", "expected escape=<rate>")]
    [InlineData("NaN", "expected escape=<rate>")]
    public void Refuses_what_it_cannot_mean(string text, string hint)
    {
        var e = Assert.Throws<FormatException>(() => ThresholdGoal.Parse(text));

        Assert.Contains(text, e.Message);
        Assert.Contains(hint, e.Message);
    }
}
