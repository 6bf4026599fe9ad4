using System.Globalization;

namespace DefectInspector.Training.Calibrate;

public enum ThresholdGoalKind
{
    /// <summary>The highest threshold whose escape rate on validation defects is at most <see cref="ThresholdGoal.Value"/>.</summary>
    EscapeRate,

    /// <summary>The threshold that maximises F1 on validation.</summary>
    F1,

    /// <summary><see cref="ThresholdGoal.Value"/> itself.</summary>
    Fixed,
}

/// <summary>What the decision threshold is chosen for, written <c>escape=0.01</c>, <c>f1</c> or a number such as <c>0.4</c>.</summary>
public sealed record ThresholdGoal(ThresholdGoalKind Kind, double Value = 0)
{
    private const string EscapePrefix = "escape=";

    public static ThresholdGoal Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (t.Equals("f1", StringComparison.OrdinalIgnoreCase))
            return new ThresholdGoal(ThresholdGoalKind.F1);

        if (t.StartsWith(EscapePrefix, StringComparison.OrdinalIgnoreCase))
        {
            var rate = Number(t[EscapePrefix.Length..]);
            if (rate is not (>= 0 and < 1))
                throw new FormatException($"threshold goal '{text}': the escape rate must be a fraction in [0, 1), e.g. escape=0.01 to miss at most 1% of defective parts");
            return new ThresholdGoal(ThresholdGoalKind.EscapeRate, rate.Value);
        }

        if (Number(t) is { } value)
        {
            if (value is not (> 0 and < 1))
                throw new FormatException($"threshold goal '{text}': a fixed threshold must be a probability strictly between 0 and 1");
            return new ThresholdGoal(ThresholdGoalKind.Fixed, value);
        }

        throw new FormatException($"threshold goal '{text}': expected escape=<rate> (e.g. escape=0.01), f1, or a fixed threshold such as 0.4");
    }

    public override string ToString() => Kind switch
    {
        ThresholdGoalKind.EscapeRate => EscapePrefix + Value.ToString(CultureInfo.InvariantCulture),
        ThresholdGoalKind.F1 => "f1",
        _ => Value.ToString(CultureInfo.InvariantCulture),
    };

    private static double? Number(string s) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v : null;
}
