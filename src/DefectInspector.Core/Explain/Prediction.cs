namespace DefectInspector.Core.Explain;

/// <summary>The classifier's answer for one image, in class order.</summary>
public sealed record Prediction(IReadOnlyList<string> Classes, float[] Logits, float[] Probabilities, int GoodClass)
{
    /// <summary>The prediction of <paramref name="logits"/>: probabilities by softmax.</summary>
    public static Prediction FromLogits(IReadOnlyList<string> classes, float[] logits, int goodClass)
    {
        double max = logits.Max();
        double[] exp = logits.Select(l => Math.Exp(l - max)).ToArray();
        double sum = exp.Sum();
        return new Prediction(classes, logits, exp.Select(e => (float)(e / sum)).ToArray(), goodClass);
    }

    public int PredictedClass => Array.IndexOf(Probabilities, Probabilities.Max());

    public string PredictedClassName => Classes[PredictedClass];

    /// <summary>Probability that the part is not good.</summary>
    public float DefectScore => GoodClass < 0 ? Probabilities.Max() : 1f - Probabilities[GoodClass];

    public bool IsGood => PredictedClass == GoodClass;
}
