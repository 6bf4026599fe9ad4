using System.CommandLine;
using DefectInspector.Inference.Bundle;
using DefectInspector.Inference.Engine;
using DefectInspector.Inference.Explain;
using DefectInspector.Inference.Inspect;
using DefectInspector.Inference.Model;
using static TorchSharp.torch;

namespace DefectInspector.Cli.Commands;

/// <summary>The flags that say which model to load: a bundle, or a PyTorch state dict with its architecture and classes.</summary>
internal sealed class ModelSource
{
    public Option<FileInfo?> Model { get; } = new("--model") { Description = "A DefectInspector model bundle (.dimodel) or its exported graph (.onnx)." };

    public Option<FileInfo?> Weights { get; } = new("--weights") { Description = "A PyTorch state dict with torchvision names (.safetensors, .pt, .pth)." };

    public Option<string> Arch { get; } = new("--arch") { Description = "Architecture of --weights: resnet18, resnet34 or resnet50.", DefaultValueFactory = _ => "resnet18" };

    public Option<string?> Classes { get; } = new("--classes") { Description = "Class names of --weights in head order, comma-separated (a class named 'good' means defect-free)." };

    public Option<int?> OutputStride { get; } = new("--output-stride")
    {
        Description = "Run a bundle at output stride 16 (layer4 dilated: a 2x finer heatmap, about 1.6x the compute) or 32, instead of the stride it was calibrated at.",
    };

    public Option<int?> Views { get; } = new("--views")
    {
        Description = "Serve a bundle with 1, 2 or 4 mirrored views of each frame instead of the number it was calibrated with.",
    };

    public Option<string?> Score { get; } = new("--map-score")
    {
        Description = "Serve a bundle's maps for another score than it was calibrated for: logit (the class's own) or margin (the class minus good).",
    };

    public Option<string> Device { get; } = new("--device")
    {
        Description = "cpu, cuda or cuda:N; tensorrt or tensorrt:N on the onnx engine (config key Model:Device).",
        DefaultValueFactory = _ => CliSettings.Device,
    };

    public Option<string?> Engine { get; } = new("--engine")
    {
        Description = "onnx (ONNX Runtime) or torch (TorchSharp); default: onnx, or torch for the methods and layers only torch explains.",
    };

    /// <summary>Adds the flags; <paramref name="serving"/> false leaves out --engine and --device (export runs no model).</summary>
    public void AddTo(Command command, bool serving = true)
    {
        command.Options.Add(Model);
        command.Options.Add(Weights);
        command.Options.Add(Arch);
        command.Options.Add(Classes);
        command.Options.Add(OutputStride);
        command.Options.Add(Views);
        command.Options.Add(Score);
        if (!serving) return;
        command.Options.Add(Device);
        command.Options.Add(Engine);
    }

    /// <summary>
    /// Opens the model the flags name and how to inspect with it. Without --engine the onnx engine serves what it can,
    /// and a method or layer only TorchSharp explains falls back to the torch engine.
    /// </summary>
    public PartInspector OpenInspector(ParseResult parse, string? method, string? layer, string? className)
    {
        string? explicitEngine = parse.GetValue(Engine);
        // What only TorchSharp explains goes there at once, rather than after an export the onnx engine cannot use.
        bool torchOnly = (method is not null && !Inference.Export.OnnxExport.MapOutputs.ContainsKey(method))
                         || (layer is not null && !string.Equals(layer, Layers.Last, StringComparison.OrdinalIgnoreCase));
        string engine;
        try
        {
            engine = Engines.Parse(explicitEngine ?? (torchOnly ? Engines.Torch : Engines.Onnx), "--engine");
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        var opened = Open(parse, engine);
        try
        {
            return Inspector(opened, method, layer, className);
        }
        catch (ArgumentException) when (explicitEngine is null && opened.Name == Engines.Onnx && !(parse.GetValue(Model) is { } file && InferenceEngines.IsOnnxFile(file.FullName)))
        {
            opened.Dispose();
            opened = Open(parse, Engines.Torch);
        }
        catch
        {
            opened.Dispose();
            throw;
        }
        try
        {
            return Inspector(opened, method, layer, className);
        }
        catch
        {
            opened.Dispose();
            throw;
        }
    }

    private static PartInspector Inspector(IInferenceEngine engine, string? method, string? layer, string? className)
    {
        int? target = null;
        if (className is not null)
        {
            int index = engine.Metadata.IndexOfClass(className);
            if (index < 0)
                throw new UsageException($"--class '{className}': expected one of the model's classes {string.Join(", ", engine.Metadata.Classes)}");
            target = index;
        }
        try
        {
            if (method is not null) CamMethods.Canonical(method);
            if (layer is not null) Layers.ToStages(layer);
        }
        catch (ArgumentException e)
        {
            throw new UsageException("--" + e.Message);
        }
        return new PartInspector(engine, method, layer, target);
    }

    /// <summary>Opens the model the flags name on <paramref name="engine"/>; throws <see cref="UsageException"/> naming the flag when they don't fit.</summary>
    public IInferenceEngine Open(ParseResult parse, string engine)
    {
        string device = parse.GetValue(Device)!;
        if (engine == Engines.Onnx)
        {
            try
            {
                OnnxDevice.Parse(device, "--device");
            }
            catch (ArgumentException e)
            {
                throw new UsageException(e.Message);
            }
        }
        if (parse.GetValue(Model) is { } bundle && parse.GetValue(Weights) is null)
            return InferenceEngines.Open(bundle.FullName, engine, device, new OnnxSessionSettings { Device = device }, Overrides(parse));
        return InferenceEngines.From(LoadTorch(parse, engine == Engines.Torch ? TorchDevice.Resolve(device) : CPU), engine, device);
    }

    /// <summary>The model the flags name in TorchSharp, for what only torch does (bench's explainer rows, export).</summary>
    public InspectionModel LoadTorch(ParseResult parse, Device device)
    {
        var bundle = parse.GetValue(Model);
        var weights = parse.GetValue(Weights);
        if (bundle is not null && weights is not null)
            throw new UsageException("--model and --weights: give one, not both");
        if (bundle is not null && InferenceEngines.IsOnnxFile(bundle.FullName))
            throw new UsageException($"--model {bundle.FullName}: an exported ONNX graph; this needs the bundle (.dimodel) it came from");
        var overrides = Overrides(parse);
        if (bundle is not null)
            return InspectionModel.FromBundle(bundle.FullName, device, overrides);
        if (weights is null)
            throw new UsageException("--model BUNDLE or --weights FILE --arch A --classes a,b: expected one of them");
        string classes = parse.GetValue(Classes)
            ?? throw new UsageException("--classes: expected the class names of --weights in head order, e.g. --classes good,defect");
        var names = classes.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (names.Length < 2)
            throw new UsageException($"--classes '{classes}': expected at least two comma-separated names");
        Architecture architecture;
        try
        {
            architecture = Architecture.Parse(parse.GetValue(Arch)!);
        }
        catch (ArgumentException e)
        {
            throw new UsageException("--arch " + e.Message);
        }
        return InspectionModel.FromStateDict(weights.FullName, architecture, names, device);
    }

    private ServingOverrides? Overrides(ParseResult parse)
    {
        int? stride = parse.GetValue(OutputStride);
        if (stride is not (null or 16 or 32))
            throw new UsageException($"--output-stride {stride}: expected 16 or 32");
        int? views = parse.GetValue(Views);
        try
        {
            if (views is { } v) MirrorViews.Validate(v, "--views");
            var score = parse.GetValue(Score) is { } name ? MapScores.Parse(name, "--map-score") : (MapScore?)null;
            return stride is null && views is null && score is null ? null : new ServingOverrides(stride, views, score);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }
}

/// <summary>A flag or argument that can't be used; the message names it and what was expected.</summary>
internal sealed class UsageException(string message) : Exception(message);
