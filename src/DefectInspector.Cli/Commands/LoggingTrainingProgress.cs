using DefectInspector.Training.Train;
using Microsoft.Extensions.Logging;

namespace DefectInspector.Cli.Commands;

/// <summary>Training progress as log lines, for a daemon whose output goes to the journal rather than a terminal.</summary>
internal sealed class LoggingTrainingProgress(ILogger logger) : ITrainingProgress
{
    public void Started(int totalEpochs, int stepsPerEpoch, int resumedEpochs) =>
        logger.LogInformation("Training: {Epochs} epochs of {Steps} steps", totalEpochs, stepsPerEpoch);

    public void Step(int epoch, int step, double loss, double learningRate)
    {
    }

    public void EpochFinished(EpochRecord record, bool improved) =>
        logger.LogInformation("Training: epoch {Epoch} done, loss {Loss:0.000}, validation AUROC {Auroc:0.000}", record.Epoch, record.TrainLoss, record.ValidationAuroc);

    public void Phase(string description) => logger.LogInformation("Training: {Phase}", description);
}
