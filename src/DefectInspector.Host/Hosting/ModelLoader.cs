using DefectInspector.Host.Options;
using DefectInspector.Inference.Engine;
using DefectInspector.Inference.Inspect;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DefectInspector.Host.Hosting;

/// <summary>
/// Loads the configured model (or the built-in demo model, trained once into the state directory) on the configured
/// engine, and says how the line inspects with it.
/// </summary>
internal sealed class ModelLoader(IOptions<ModelOptions> model, IOptions<StorageOptions> storage, ILogger<ModelLoader> logger, IDefaultModel? defaultModel = null)
{
    public PartInspector Load(CancellationToken cancellation)
    {
        var options = model.Value;
        string path = options.Path;
        bool demo = path.Length == 0;
        if (demo)
        {
            if (defaultModel is null)
                throw new DaemonStartException("Model:Path is empty: expected the path of a .dimodel bundle (this host has no built-in demo model)");
            path = defaultModel.Ensure(Path.Combine(storage.Value.ResolvedPath, "models"), options.DemoTrainingDevice, cancellation);
            logger.LogInformation("No Model:Path configured: using the built-in demo model {ModelPath}", path);
        }
        IInferenceEngine engine;
        try
        {
            // The demo's folder is ours: its ONNX form is kept beside it, so later starts never load libtorch.
            engine = InferenceEngines.Open(path, options.Engine, options.Device, options.Onnx.ToSettings(options.Device), logger: logger, writeBeside: demo);
        }
        catch (EngineUnavailableException e)
        {
            throw new DaemonStartException($"Model:Device '{options.Device}': {e.Message}", e);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or ArgumentException or Inference.Weights.WeightsMismatchException or InvalidOperationException)
        {
            throw new DaemonStartException($"Model:Path '{path}': cannot load the model: {e.Message}", e);
        }
        try
        {
            var inspector = new PartInspector(engine, NullIfEmpty(options.Method), NullIfEmpty(options.Layer));
            var m = engine.Metadata;
            // Views and stride set the cost of a frame (a forward pass per view, 1.6x at stride 16): say them where the fps is read.
            logger.LogInformation("Model {ModelName} {ModelVersion} loaded from {ModelPath} on the {Engine} engine, {Device}: classes {Classes}, threshold {Threshold}, {Views} view(s) at output stride {OutputStride}, {MapScore} maps, explained by {Method}/{Layer}",
                m.Name, m.Version, path, engine.Name, engine.Device, string.Join(",", m.Classes), m.Decision.Threshold, m.Views, m.OutputStride, m.Explainer.Score, inspector.Method, inspector.Layer);
            return inspector;
        }
        catch (ArgumentException e)
        {
            engine.Dispose();
            throw new DaemonStartException($"Model:Method '{options.Method}' / Model:Layer '{options.Layer}' on Model:Engine '{options.Engine}': {e.Message}", e);
        }
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;
}

/// <summary>Start-up cannot go on; the message names the key or file and what was expected.</summary>
public sealed class DaemonStartException(string message, Exception? inner = null) : Exception(message, inner);
