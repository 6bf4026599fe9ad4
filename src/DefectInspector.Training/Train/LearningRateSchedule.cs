namespace DefectInspector.Training.Train;

/// <summary>Linear warm-up to the base rate, then cosine decay to zero, by optimiser step.</summary>
public sealed record LearningRateSchedule(double BaseRate, int WarmupSteps, int TotalSteps)
{
    public double At(int step)
    {
        if (step < WarmupSteps) return BaseRate * (step + 1) / WarmupSteps;
        double progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        return BaseRate * 0.5 * (1 + Math.Cos(Math.PI * Math.Min(1, progress)));
    }
}
