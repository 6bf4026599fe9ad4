using System.CommandLine;
using DefectInspector.Inference.Export;
using static TorchSharp.torch;

namespace DefectInspector.Cli.Commands;

/// <summary>`defect-inspector export`: a model as one ONNX graph that explains its own predictions (docs/model-bundle.md).</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var source = new ModelSource();
        var output = new Option<FileInfo?>("--out") { Description = "The .onnx file to write (default: beside the bundle, same name)." };
        var command = new Command("export", "Export a model as one ONNX graph (opset 17, dynamic batch): logits and every class's raw CAM, Grad-CAM, Grad-CAM++ and LayerCAM map, as served, with the bundle's metadata.");
        source.AddTo(command, serving: false);
        command.Options.Add(output);
        command.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            try
            {
                string path = parse.GetValue(output)?.FullName
                    ?? (parse.GetValue(source.Model) is { } bundle ? Path.ChangeExtension(bundle.FullName, ".onnx")
                        : throw new UsageException("--out: expected the .onnx file to write (there is no bundle to write beside)"));
                if (!path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
                    throw new UsageException($"--out {path}: expected a file name ending in .onnx (the daemon tells models apart by it)");
                using var model = source.LoadTorch(parse, CPU);
                OnnxExport.Write(model, path);
                var m = model.Metadata;
                stdout.WriteLine($"{path}: {m.Name} {m.Version} ({m.Architecture}, {m.Classes.Count} classes, {m.Preprocessing.Width}x{m.Preprocessing.Height}, {m.Views} view(s), output stride {m.OutputStride}, {m.Explainer.Score.ToString().ToLowerInvariant()} maps), {new FileInfo(path).Length / 1e6:0.0} MB");
                return 0;
            }
            catch (Exception e) when (e is UsageException or ArgumentException or InvalidDataException or IOException or InvalidOperationException or Inference.Weights.WeightsMismatchException)
            {
                stderr.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}
