namespace DefectInspector.Core.Explain;

/// <summary>Which class a map explains when nobody names one: the one rule every engine follows.</summary>
public static class TargetClasses
{
    /// <summary>
    /// <paramref name="explicitClass"/> when given; else, for a model with a good class, the likeliest defect class (the
    /// evidence for a defect, whatever the prediction: the defect class of a good/defect model); else the predicted class.
    /// </summary>
    public static int Resolve(ReadOnlySpan<float> logits, int goodClass, int? explicitClass)
    {
        if (explicitClass is int c) return c;
        int best = -1;
        for (int i = 0; i < logits.Length; i++)
        {
            if (i == goodClass && logits.Length > 1) continue;
            if (best < 0 || logits[i] > logits[best]) best = i;
        }
        return best;
    }
}
