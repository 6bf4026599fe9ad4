namespace DefectInspector.Inference.Explain;

/// <summary>The CAM family, and what is composed of it, by the names users type.</summary>
public static class CamMethods
{
    public static IReadOnlyList<string> Names { get; } = ["cam", "gradcam", "gradcam++", "layercam", "scorecam", "guided-gradcam"];

    /// <summary>The method's own name for what users type ("GradCAMpp" is "gradcam++"); creates nothing, so engines without TorchSharp ask here.</summary>
    public static string Canonical(string name) => name.ToLowerInvariant() switch
    {
        "gradcampp" => "gradcam++",
        var n when Names.Contains(n) => n,
        _ => throw new ArgumentException($"method '{name}': expected one of {string.Join(", ", Names)}"),
    };

    public static IExplainer Create(string name, bool closedFormGradients = true) => Canonical(name) switch
    {
        "cam" => new Cam(),
        "gradcam" => new GradCam { UseClosedFormGradients = closedFormGradients },
        "gradcam++" => new GradCamPlusPlus { UseClosedFormGradients = closedFormGradients },
        "layercam" => new LayerCam { UseClosedFormGradients = closedFormGradients },
        "scorecam" => new ScoreCam(),
        "guided-gradcam" => new GuidedGradCam(closedFormGradients),
        _ => throw new ArgumentException($"method '{name}': expected one of {string.Join(", ", Names)}"),
    };
}
