using System.Globalization;
using DefectInspector.Training.Train;
using Spectre.Console;

namespace DefectInspector.Cli.Commands;

/// <summary>Training progress on stderr: one bar over all steps with epoch, loss, validation AUROC and ETA.</summary>
internal sealed class TrainingProgressBar(ProgressContext context) : ITrainingProgress
{
    private ProgressTask? task;
    private int stepsPerEpoch;
    private string lastValidation = "";

    public void Phase(string description)
    {
        task ??= context.AddTask(description, maxValue: 1);
        task.Description = Markup.Escape(description);
    }

    public void Started(int totalEpochs, int steps, int resumedEpochs)
    {
        stepsPerEpoch = steps;
        task ??= context.AddTask("training", maxValue: 1);
        task.MaxValue = totalEpochs * steps;
        task.Value = resumedEpochs * steps;
        task.StartTask();
    }

    public void Step(int epoch, int step, double loss, double learningRate)
    {
        if (task is null) return;
        task.Value = (epoch - 1) * stepsPerEpoch + step;
        task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"epoch {epoch} step {step}/{stepsPerEpoch} loss {loss:0.000} lr {learningRate:0.0e0}{lastValidation}"));
    }

    public void EpochFinished(EpochRecord record, bool improved)
    {
        lastValidation = string.Create(CultureInfo.InvariantCulture, $" | val AUROC {record.ValidationAuroc:0.000}{(improved ? " *" : "")}");
        if (task is not null) task.Value = record.Epoch * stepsPerEpoch;
    }
}
