namespace DefectInspector.Inference.Explain;

/// <summary>Which score a heatmap explains.</summary>
public enum MapScore
{
    /// <summary>The target class's logit, as the CAM papers define their maps.</summary>
    Logit,

    /// <summary>
    /// The target class's logit minus the good class's. Softmax does not change when one vector is added to every
    /// class's weights, so a single class's map carries a term the model never fixed; the difference to the good class
    /// is what the model actually learned to tell apart, and its spatial mean is the logit margin that decides p(good).
    /// Falls back to <see cref="Logit"/> for a model without a good class, or when the good class itself is explained.
    /// </summary>
    Margin,
}

/// <summary>Map scores by the names users type.</summary>
public static class MapScores
{
    public static MapScore Parse(string name, string field) => name.ToLowerInvariant() switch
    {
        "logit" => MapScore.Logit,
        "margin" => MapScore.Margin,
        _ => throw new ArgumentException($"{field} '{name}': expected logit or margin"),
    };
}
