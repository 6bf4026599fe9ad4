using System.CommandLine;
using System.Text.Json;
using DefectInspector.Cli.Output;
using DefectInspector.Inference.Explain;
using DefectInspector.Inference.Inspect;
using DefectInspector.Inference.Model;
using DefectInspector.Vision.Imaging;
using DefectInspector.Vision.Rendering;
using OpenCvSharp;

namespace DefectInspector.Cli.Commands;

/// <summary>`defect-inspector explain`: the class activation map and defect regions of images, as overlays and JSON.</summary>
internal static class ExplainCommand
{
    public const int ExitOk = 0;
    public const int ExitSomeFailed = 1;
    public const int ExitUsage = 2;

    public static Command Create()
    {
        var inputs = new Argument<string[]>("inputs") { Description = "Image files or folders of images.", Arity = ArgumentArity.OneOrMore };
        var source = new ModelSource();
        var method = new Option<string?>("--method") { Description = $"One of {string.Join(", ", CamMethods.Names)} (default: the bundle's, else cam)." };
        var layer = new Option<string?>("--layer") { Description = $"One of {string.Join(", ", Layers.Names)}, or several comma-separated for layercam to fuse, e.g. layer2,layer3,layer4 (default: the bundle's, else {Layers.Last})." };
        var targetClass = new Option<string?>("--class") { Description = "Class to explain (default: the defect class of a good/defect model, else the predicted class)." };
        var outDir = new Option<DirectoryInfo?>("--out") { Description = "Folder for overlays (<stem>.<method>.jpg) and maps." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object per image on stdout." };
        var saveMaps = new Option<bool>("--save-maps") { Description = "Also write <out>/<stem>.<method>.npy (float32, input size, normalised)." };

        var command = new Command("explain", "Explain images: prediction, class activation map, defect regions and an overlay per image.");
        command.Arguments.Add(inputs);
        source.AddTo(command);
        command.Options.Add(method);
        command.Options.Add(layer);
        command.Options.Add(targetClass);
        command.Options.Add(outDir);
        command.Options.Add(json);
        command.Options.Add(saveMaps);

        command.SetAction((parse, cancellation) =>
        {
            var settings = new ExplainSettings(
                parse.GetValue(inputs)!, parse.GetValue(method), parse.GetValue(layer), parse.GetValue(targetClass),
                parse.GetValue(outDir)?.FullName, parse.GetValue(json), parse.GetValue(saveMaps));
            return Task.FromResult(Run(settings, () => source.OpenInspector(parse, settings.Method, settings.Layer, settings.TargetClass),
                parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellation));
        });
        return command;
    }

    internal sealed record ExplainSettings(string[] Inputs, string? Method, string? Layer, string? TargetClass, string? OutDir, bool Json, bool SaveMaps);

    internal static int Run(ExplainSettings settings, Func<PartInspector> open, TextWriter stdout, TextWriter stderr, CancellationToken cancellation)
    {
        PartInspector inspector;
        try
        {
            if (settings.SaveMaps && settings.OutDir is null)
                throw new UsageException("--save-maps: expected --out DIR for the .npy files");
            inspector = open();
        }
        catch (Exception e) when (e is UsageException or ArgumentException or InvalidDataException or IOException or InvalidOperationException
                                      or Inference.Weights.WeightsMismatchException or Inference.Engine.EngineUnavailableException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return ExitUsage;
        }

        using (inspector.Engine)
        {
            if (settings.OutDir is not null) Directory.CreateDirectory(settings.OutDir);
            var expanded = ImageInputs.Expand(settings.Inputs);
            int failed = expanded.Errors.Count;
            foreach (var error in expanded.Errors)
                Fail(stdout, stderr, settings.Json, image: null, error);

            var names = new OutputNames();
            int done = 0;
            foreach (string file in expanded.Files)
            {
                cancellation.ThrowIfCancellationRequested();
                try
                {
                    var record = ExplainOne(file, inspector, settings, names);
                    stdout.WriteLine(settings.Json
                        ? JsonSerializer.Serialize(record, CliJsonContext.Default.ExplainRecord)
                        : $"{file}: {record.PredictedClass} (defect score {record.DefectScore:0.000}), {record.Regions.Count} region(s){(record.Overlay is null ? "" : " -> " + record.Overlay)}");
                }
                catch (Exception e) when (e is ImageReadException or OpenCVException or ArgumentException or IOException)
                {
                    failed++;
                    Fail(stdout, stderr, settings.Json, file, e.Message);
                }
                done++;
                stderr.WriteLine($"[{done}/{expanded.Files.Count}] {file}");
            }
            if (failed > 0)
                stderr.WriteLine($"error: {failed} of {expanded.Files.Count + expanded.Errors.Count} input(s) failed");
            return failed == 0 ? ExitOk : ExitSomeFailed;
        }
    }

    private static ExplainRecord ExplainOne(string file, PartInspector inspector, ExplainSettings settings, OutputNames names)
    {
        using var frame = ImageReader.Read(file);
        var part = inspector.Inspect([frame])[0];
        var (prediction, heatmap, regions) = (part.Prediction, part.Heatmap, part.Regions);

        string? overlayPath = null, mapPath = null;
        if (settings.OutDir is not null)
        {
            string stem = names.Claim(Path.GetFileNameWithoutExtension(file));
            overlayPath = Path.Combine(settings.OutDir, $"{stem}.{inspector.Method}.jpg");
            string header = $"{prediction.PredictedClassName} {prediction.DefectScore:0.00} {inspector.Method}/{heatmap.Layer}";
            File.WriteAllBytes(overlayPath, OverlayRenderer.Render(frame, heatmap.Normalised, regions, header));
            if (settings.SaveMaps)
            {
                mapPath = Path.Combine(settings.OutDir, $"{stem}.{inspector.Method}.npy");
                NpyWriter.Write(heatmap.Normalised, mapPath);
            }
        }
        return ExplainRecord.From(file, prediction, heatmap, regions, overlayPath, mapPath);
    }

    private static void Fail(TextWriter stdout, TextWriter stderr, bool json, string? image, string message)
    {
        stderr.WriteLine($"error: {message}");
        if (json && image is not null)
            stdout.WriteLine(JsonSerializer.Serialize(new ExplainFailure(image, message), CliJsonContext.Default.ExplainFailure));
    }

    /// <summary>Keeps output names unique when two inputs share a file stem.</summary>
    private sealed class OutputNames
    {
        private readonly HashSet<string> used = new(StringComparer.Ordinal);

        public string Claim(string stem)
        {
            string name = stem;
            for (int i = 2; !used.Add(name); i++) name = $"{stem}-{i}";
            return name;
        }
    }
}
