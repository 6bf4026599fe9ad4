using System.CommandLine;
using DefectInspector.Inference.Bundle;
using DefectInspector.Inference.Explain;
using DefectInspector.Inference.Model;

namespace DefectInspector.Cli.Commands;

/// <summary>The flags that say which model to load: a bundle, or a PyTorch state dict with its architecture and classes.</summary>
internal sealed class ModelSource
{
    public Option<FileInfo?> Model { get; } = new("--model") { Description = "A DefectInspector model bundle (.dimodel)." };

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

    public Option<string> Device { get; } = new("--device") { Description = "cpu, cuda or cuda:N (config key Model:Device).", DefaultValueFactory = _ => CliSettings.Device };

    public void AddTo(Command command)
    {
        command.Options.Add(Model);
        command.Options.Add(Weights);
        command.Options.Add(Arch);
        command.Options.Add(Classes);
        command.Options.Add(OutputStride);
        command.Options.Add(Views);
        command.Options.Add(Score);
        command.Options.Add(Device);
    }

    /// <summary>Loads the model the flags name; throws <see cref="UsageException"/> naming the flag when they don't fit.</summary>
    public InspectionModel Load(ParseResult parse)
    {
        var bundle = parse.GetValue(Model);
        var weights = parse.GetValue(Weights);
        var device = TorchDevice.Resolve(parse.GetValue(Device)!);
        if (bundle is not null && weights is not null)
            throw new UsageException("--model and --weights: give one, not both");
        int? stride = parse.GetValue(OutputStride);
        if (stride is not (null or 16 or 32))
            throw new UsageException($"--output-stride {stride}: expected 16 or 32");
        int? views = parse.GetValue(Views);
        MapScore? score;
        try
        {
            if (views is { } v) MirrorViews.Validate(v, "--views");
            score = parse.GetValue(Score) is { } name ? MapScores.Parse(name, "--map-score") : null;
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        if (bundle is not null)
            return InspectionModel.FromBundle(bundle.FullName, device, new ServingOverrides(stride, views, score));
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
}

/// <summary>A flag or argument that can't be used; the message names it and what was expected.</summary>
internal sealed class UsageException(string message) : Exception(message);
