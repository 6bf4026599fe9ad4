using DefectInspector.Host.Options;
using DefectInspector.Inference.Model;
using DefectInspector.Training.Demo;
using DefectInspector.Training.Train;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Hosting;

/// <summary>Loads the configured bundle, or the built-in demo model (trained once into the state directory).</summary>
internal sealed class ModelLoader(IOptions<ModelOptions> model, IOptions<StorageOptions> storage, ITrainingProgress progress, ILogger<ModelLoader> logger)
{
    public InspectionModel Load(CancellationToken cancellation)
    {
        var options = model.Value;
        var device = TorchDevice.Resolve(options.Device);
        string path = options.Path;
        if (path.Length == 0)
        {
            path = DemoModel.Ensure(Path.Combine(storage.Value.ResolvedPath, "models"), options.Device, progress, logger, cancellation);
            logger.LogInformation("No Model:Path configured: using the built-in demo model {ModelPath}", path);
        }
        try
        {
            var loaded = InspectionModel.FromBundle(path, device);
            var m = loaded.Metadata;
            // Views and stride set the cost of a frame (a forward pass per view, 1.6x at stride 16): say them where the fps is read.
            logger.LogInformation("Model {ModelName} {ModelVersion} loaded from {ModelPath} on {Device}: classes {Classes}, threshold {Threshold}, {Views} view(s) at output stride {OutputStride}, {MapScore} maps",
                m.Name, m.Version, path, options.Device, string.Join(",", m.Classes), m.Decision.Threshold, m.Views, m.OutputStride, m.Explainer.Score);
            return loaded;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or Inference.Weights.WeightsMismatchException or InvalidOperationException)
        {
            throw new DaemonStartException($"Model:Path '{path}': cannot load the model bundle: {e.Message}", e);
        }
    }
}

/// <summary>Start-up cannot go on; the message names the key or file and what was expected.</summary>
public sealed class DaemonStartException(string message, Exception? inner = null) : Exception(message, inner);
