using DefectInspector.Training.Data;
using DefectInspector.Training.Train;
using DefectInspector.Vision.Capture;
using Microsoft.Extensions.Logging;
using OpenCvSharp;

namespace DefectInspector.Training.Demo;

/// <summary>
/// The built-in demo model: the project's own trainer, fine-tuned on the parts of the virtual line, so that a fresh
/// install runs end to end with nothing but the product. Trained once (about half a minute on two cores) and kept.
/// </summary>
public static class DemoModel
{
    /// <summary>Raise when the recipe below changes, so installed daemons retrain instead of reusing an old model.</summary>
    public const int Recipe = 2;

    public const int PartsPerClass = 64;

    public static TrainingOptions Options(string device) => new()
    {
        InputSize = 128,
        Epochs = 3,
        BatchSize = 16,
        LearningRate = 1e-3,
        FreezeStages = 1,
        Patience = 3,
        Seed = 7,
        Device = device,
        Target = "f1",
        // The virtual line's parts are large and need neither the finer map nor mirrored views, and a first start on a
        // small CPU should stay quick.
        OutputStride = 32,
        Views = 1,
    };

    public static string PathIn(string folder) => System.IO.Path.Combine(folder, $"demo-v{Recipe}.dimodel");

    public static bool Exists(string folder) => File.Exists(PathIn(folder));

    /// <summary>The bundle in <paramref name="folder"/>, trained first if it isn't there yet.</summary>
    public static string Ensure(string folder, string device, ITrainingProgress progress, ILogger logger, CancellationToken cancellation)
    {
        string bundle = PathIn(folder);
        if (File.Exists(bundle)) return bundle;

        Directory.CreateDirectory(folder);
        string work = Path.Combine(folder, $"demo-v{Recipe}.work");
        if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        logger.LogWarning("Training the built-in demo model on {Parts} synthetic parts into {Bundle} (first start only)", 2 * PartsPerClass, bundle);
        progress.Phase("drawing synthetic parts for the demo model");
        WriteParts(Path.Combine(work, "data"), new SourceSettings());

        var data = DatasetReader.Open(Path.Combine(work, "data"), new DatasetReadOptions(Strict: true), logger);
        var (train, validation) = DatasetSplitter.Split(data, new SplitOptions(ValidationFraction: 0.25, Seed: 7));
        string staged = Path.Combine(work, "demo.dimodel");
        ModelTrainer.TrainAndPackage(data, train, validation, Options(device), staged, resume: false, progress, logger, cancellation);
        // Rename last, so an interrupted first start never leaves a half-written model that later starts would trust.
        File.Move(staged, bundle, overwrite: true);
        Directory.Delete(work, recursive: true);
        return bundle;
    }

    private static void WriteParts(string root, SourceSettings line)
    {
        var rng = new Random(line.Seed + 1000);
        foreach (var (label, defect) in new[] { ("good", false), ("defect", true) })
        {
            string dir = Path.Combine(root, label);
            Directory.CreateDirectory(dir);
            for (int i = 0; i < PartsPerClass; i++)
            {
                using var part = SyntheticParts.Draw(line.VirtualWidth, line.VirtualHeight, rng, defect ? Enum.GetValues<DefectKind>()[i % 3] : null);
                Cv2.ImWrite(Path.Combine(dir, $"part-{i:000}.png"), part.Image);
            }
        }
    }
}
