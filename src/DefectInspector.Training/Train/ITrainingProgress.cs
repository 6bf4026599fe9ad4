namespace DefectInspector.Training.Train;

/// <summary>What a trainer reports while it works; the CLI draws it as a progress bar.</summary>
public interface ITrainingProgress
{
    void Started(int totalEpochs, int stepsPerEpoch, int resumedEpochs);

    void Step(int epoch, int step, double loss, double learningRate);

    void EpochFinished(EpochRecord record, bool improved);

    void Phase(string description);
}
