using DefectInspector.Training.Data;
using DefectInspector.Training.Evaluate;
using DefectInspector.Training.Train;
using Microsoft.Extensions.Logging.Abstractions;
using static TorchSharp.torch;

namespace DefectInspector.Training.Tests.Train;

public sealed class TrainerTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("di-train-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static readonly TrainingOptions Quick = new() { InputSize = 64, Epochs = 4, BatchSize = 8, LearningRate = 2e-3, Seed = 3, Patience = 4 };

    [Fact]
    public void Learns_to_separate_scratched_parts_from_good_ones()
    {
        var data = SyntheticParts.Create(Path.Combine(dir, "data"), perClass: 24, seed: 1);
        var (train, validation) = Halves(data);
        var trained = new Trainer(NullLogger.Instance).Train(data, train, validation, Quick, Path.Combine(dir, "ckpt"), resume: false, new NoProgress(), CancellationToken.None);
        using var network = trained.Network;

        Assert.Equal(["good", "defect"], trained.Classes);
        Assert.InRange(trained.BestEpoch, 1, Quick.Epochs);
        double best = trained.History.Max(h => h.ValidationAuroc);
        Assert.True(best > 0.9, $"validation AUROC {best:0.000}: " + string.Join("; ", trained.History));
        Assert.True(File.Exists(Path.Combine(dir, "ckpt", "best.safetensors")));
    }

    [Fact]
    public void An_interrupted_run_resumed_reaches_the_same_weights()
    {
        var data = SyntheticParts.Create(Path.Combine(dir, "data"), perClass: 10, seed: 2);
        var (train, validation) = Halves(data);
        var options = Quick with { Epochs = 3, Patience = 3 };

        var whole = new Trainer(NullLogger.Instance).Train(data, train, validation, options, Path.Combine(dir, "whole"), resume: false, new NoProgress(), CancellationToken.None);

        using var cancel = new CancellationTokenSource();
        var stopAfterFirstEpoch = new NoProgress { OnEpoch = e => { if (e == 1) cancel.Cancel(); } };
        string interruptedFolder = Path.Combine(dir, "interrupted");
        Assert.ThrowsAny<OperationCanceledException>(() =>
            new Trainer(NullLogger.Instance).Train(data, train, validation, options, interruptedFolder, resume: false, stopAfterFirstEpoch, cancel.Token));
        var resumed = new Trainer(NullLogger.Instance).Train(data, train, validation, options, interruptedFolder, resume: true, new NoProgress(), CancellationToken.None);

        using (whole.Network)
        using (resumed.Network)
        {
            Assert.Equal(whole.History.Select(h => h.ValidationAuroc), resumed.History.Select(h => h.ValidationAuroc));
            var a = whole.Network.state_dict();
            var b = resumed.Network.state_dict();
            foreach (var (name, tensor) in a)
                Assert.True(tensor.to_type(ScalarType.Float64).allclose(b[name].to_type(ScalarType.Float64), rtol: 1e-5, atol: 1e-6), $"{name} differs after resume");
        }
    }

    [Fact]
    public void Kinds_in_the_data_give_a_multi_class_head()
    {
        var data = SyntheticParts.Create(Path.Combine(dir, "data"), perClass: 8, seed: 4, kinds: true);
        Assert.Equal(["good", "scratch", "spot"], Trainer.Classes(data));
    }

    private static (List<LabelledImage> Train, List<LabelledImage> Validation) Halves(Dataset data) =>
        (data.Images.Where((_, i) => i % 4 < 2).ToList(), data.Images.Where((_, i) => i % 4 >= 2).ToList());

    private sealed class NoProgress : ITrainingProgress
    {
        public Action<int>? OnEpoch { get; init; }

        public void Started(int totalEpochs, int stepsPerEpoch, int resumedEpochs) { }

        public void Step(int epoch, int step, double loss, double learningRate) { }

        public void EpochFinished(EpochRecord record, bool improved) => OnEpoch?.Invoke(record.Epoch);

        public void Phase(string description) { }
    }
}
