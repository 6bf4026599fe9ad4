namespace DefectInspector.Vision.Capture;

/// <summary>The kinds of defect the synthetic line draws on its parts.</summary>
public enum DefectKind
{
    /// <summary>One or two dark, slightly bowed lines, as left by a tool or a part dragged across an edge.</summary>
    Scratch,

    /// <summary>One to three dark round or oval blobs, like blowholes or pits in a casting.</summary>
    Spot,

    /// <summary>A dark jagged line that wanders and may branch.</summary>
    Crack,
}
