namespace DefectInspector.Core.Explain;

/// <summary>The classifier's answer for one image, in class order.</summary>
public sealed record Prediction(IReadOnlyList<string> Classes, float[] Logits, float[] Probabilities, int GoodClass)
{
    public int PredictedClass => Array.IndexOf(Probabilities, Probabilities.Max());

    public string PredictedClassName => Classes[PredictedClass];

    /// <summary>Probability that the part is not good.</summary>
    public float DefectScore => GoodClass < 0 ? Probabilities.Max() : 1f - Probabilities[GoodClass];

    public bool IsGood => PredictedClass == GoodClass;
}
