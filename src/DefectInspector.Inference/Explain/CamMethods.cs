namespace DefectInspector.Inference.Explain;

/// <summary>The CAM family by the names users type.</summary>
public static class CamMethods
{
    public static IReadOnlyList<string> Names { get; } = ["cam", "gradcam", "gradcam++", "layercam", "scorecam"];

    public static CamMethod Create(string name, bool closedFormGradients = true) => name.ToLowerInvariant() switch
    {
        "cam" => new Cam(),
        "gradcam" => new GradCam { UseClosedFormGradients = closedFormGradients },
        "gradcam++" or "gradcampp" => new GradCamPlusPlus { UseClosedFormGradients = closedFormGradients },
        "layercam" => new LayerCam { UseClosedFormGradients = closedFormGradients },
        "scorecam" => new ScoreCam(),
        _ => throw new ArgumentException($"method '{name}': expected one of {string.Join(", ", Names)}"),
    };
}
