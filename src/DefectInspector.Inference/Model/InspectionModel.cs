using DefectInspector.Core.Imaging;
using DefectInspector.Inference.Bundle;
using DefectInspector.Inference.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Model;

/// <summary>A served model: the network on its device with the metadata that says how to feed and read it.</summary>
public sealed class InspectionModel : IDisposable
{
    private InspectionModel(GapResNet network, BundleMetadata metadata, Device device, string sha256)
    {
        Network = network;
        Metadata = metadata;
        Device = device;
        Sha256 = sha256;
    }

    public GapResNet Network { get; }

    public BundleMetadata Metadata { get; }

    public Device Device { get; }

    /// <summary>SHA-256 of the file the weights came from: the model's identity in verdicts.</summary>
    public string Sha256 { get; }

    /// <summary>A network already in memory (e.g. just trained) served with <paramref name="metadata"/>; takes ownership.</summary>
    public static InspectionModel FromNetwork(GapResNet network, BundleMetadata metadata, Device device, string identity)
    {
        metadata.Validate(metadata.Name);
        network.to(device);
        network.eval();
        return new InspectionModel(network, metadata, device, identity);
    }

    /// <summary>A bundle, served as calibrated unless <paramref name="overrides"/> say otherwise.</summary>
    public static InspectionModel FromBundle(string path, Device device, ServingOverrides? overrides = null)
    {
        var (network, metadata, sha) = ModelBundle.Load(path, device, overrides);
        return new InspectionModel(network, metadata, device, sha);
    }

    /// <summary>
    /// A PyTorch state dict (.safetensors/.pt) with torchvision names. Without a bundle there is no calibration:
    /// torchvision preprocessing, decision at 0.5, regions relative to the peak. The good class is one named "good", if any.
    /// </summary>
    public static InspectionModel FromStateDict(string path, Architecture architecture, IReadOnlyList<string> classes, Device device, Preprocessing? preprocessing = null)
    {
        var metadata = new BundleMetadata
        {
            Name = Path.GetFileNameWithoutExtension(path),
            Architecture = architecture.Name,
            Classes = classes,
            GoodClass = classes.FirstOrDefault(c => string.Equals(c, "good", StringComparison.OrdinalIgnoreCase)),
            Preprocessing = preprocessing ?? Preprocessing.ImageNet(),
            Provenance = new Provenance { SourceWeights = Path.GetFileName(path) },
        };
        metadata.Validate(path);
        var network = new GapResNet(architecture, classes.Count);
        try
        {
            StateDict.LoadFile(network, path);
            network.to(device);
            network.eval();
            return new InspectionModel(network, metadata, device, ModelBundle.Sha256(path));
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The ImageNet ResNet-18 trunk imported from its ONNX file, with a fresh (untrained) head: the starting point
    /// for fine-tuning and a stand-in for speed measurements, not a defect classifier.
    /// </summary>
    public static InspectionModel FromImageNetTrunk(string onnxPath, IReadOnlyList<string> classes, Device device, int seed = 0)
    {
        using var trunk = OnnxTrunkImporter.Import(onnxPath);
        manual_seed(seed);
        var network = trunk.CreateModel(classes.Count);
        var metadata = new BundleMetadata
        {
            Name = "imagenet-resnet18",
            Architecture = network.Architecture.Name,
            Classes = classes,
            GoodClass = classes.FirstOrDefault(c => string.Equals(c, "good", StringComparison.OrdinalIgnoreCase)),
            Preprocessing = trunk.Preprocessing,
            Provenance = new Provenance { SourceWeights = trunk.Provenance, Notes = "ImageNet trunk with an untrained head" },
        };
        network.to(device);
        network.eval();
        return new InspectionModel(network, metadata, device, trunk.Sha256);
    }

    /// <summary>Stacks preprocessed images into one [N, 3, H, W] batch on the model's device.</summary>
    public Tensor ToBatch(IReadOnlyList<InputImage> images) => InputBatch.ToTensor(images, Metadata.Preprocessing, Device);

    public void Dispose() => Network.Dispose();
}
