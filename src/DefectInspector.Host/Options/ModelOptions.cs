namespace DefectInspector.Host.Options;

/// <summary>Configuration section "Model".</summary>
public sealed class ModelOptions
{
    public const string Section = "Model";

    /// <summary>A model bundle (.dimodel); empty = the built-in demo model, trained on first start into Storage:Path.</summary>
    public string Path { get; set; } = "";

    /// <summary>cpu, cuda or cuda:N.</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>Explainer: cam, gradcam, gradcam++, layercam or scorecam; empty = the bundle's.</summary>
    public string Method { get; set; } = "";

    /// <summary>Layer to explain: layer1..layer4; empty = the bundle's.</summary>
    public string Layer { get; set; } = "";
}
