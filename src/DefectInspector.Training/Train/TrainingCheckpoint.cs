using System.Text.Json;
using System.Text.Json.Serialization;
using DefectInspector.Inference.Model;
using DefectInspector.Inference.Weights;
using TorchSharp.Modules;

namespace DefectInspector.Training.Train;

/// <summary>One finished epoch, as the progress display and the bundle's provenance report it.</summary>
public sealed record EpochRecord(int Epoch, double TrainLoss, double ValidationLoss, double ValidationAuroc, double LearningRate, double Seconds);

/// <summary>Where a run stands: the last finished epoch, the best so far, and the run it belongs to.</summary>
internal sealed record CheckpointState(string RunFingerprint, int CompletedEpochs, int Step, int BestEpoch, double BestAuroc, double BestLoss, List<EpochRecord> History);

/// <summary>
/// The checkpoint folder beside the output (<c>MODEL.training/</c>): model and optimiser after the last finished
/// epoch, the best model so far, and the state. Each file is written to a temporary name and renamed, state last,
/// so a power cut leaves the previous epoch's checkpoint whole.
/// </summary>
internal sealed class TrainingCheckpoint(string folder)
{
    private string StatePath => Path.Combine(folder, "state.json");

    private string LastModel => Path.Combine(folder, "last.safetensors");

    private string LastOptimizer => Path.Combine(folder, "last-optimizer.bin");

    private string BestModel => Path.Combine(folder, "best.safetensors");

    public string Folder => folder;

    public bool Exists => File.Exists(StatePath);

    public CheckpointState ReadState()
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(StatePath), CheckpointJson.Default.CheckpointState)
                   ?? throw new InvalidDataException("empty");
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"{StatePath}: unreadable training state ({e.Message}); delete {folder} to start over", e);
        }
    }

    public void Save(CheckpointState state, GapResNet model, OptimizerHelper optimizer, bool isBest)
    {
        Directory.CreateDirectory(folder);
        SafetensorsFile.Write(LastModel, model.state_dict());
        Replace(LastOptimizer, temp => optimizer.save_state_dict(temp));
        if (isBest) Replace(BestModel, temp => File.Copy(LastModel, temp, overwrite: true));
        Replace(StatePath, temp => File.WriteAllText(temp, JsonSerializer.Serialize(state, CheckpointJson.Default.CheckpointState)));
    }

    /// <summary>Writes <paramref name="path"/> under a temporary name, then renames it over the old file.</summary>
    private static void Replace(string path, Action<string> write)
    {
        string temp = path + ".tmp";
        write(temp);
        File.Move(temp, path, overwrite: true);
    }

    public void RestoreLast(GapResNet model, OptimizerHelper optimizer)
    {
        StateDict.LoadFile(model, LastModel);
        optimizer.load_state_dict(LastOptimizer);
    }

    public void RestoreBest(GapResNet model) => StateDict.LoadFile(model, BestModel);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(CheckpointState))]
internal sealed partial class CheckpointJson : JsonSerializerContext;
