using DefectInspector.Core.Naming;

namespace DefectInspector.Host.Hmi;

/// <summary>
/// Reviewed parts as `defect-inspector train --data` reads them (ImageFolder): <c>&lt;label&gt;/&lt;verdict id&gt;.png</c>,
/// the good class for false rejects. The heatmap overlay the operator saw goes to <c>.heatmaps/</c>, which training
/// skips as a hidden folder.
/// </summary>
internal sealed class FeedbackFolder(string root)
{
    public const string HeatmapFolder = ".heatmaps";

    public string Root { get; } = Path.GetFullPath(root);

    /// <summary>
    /// Moves the part's image (and overlay) in under <paramref name="label"/>; returns where they are now. Idempotent:
    /// a part moved before a crash, whose record was not updated, is found where it went.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="label"/> is no plain folder name inside <see cref="Root"/>.</exception>
    public (string Image, string? Overlay) Store(StoredPart part, string label)
    {
        // Bundles are checked for safe class names when read; this holds for parts stored by a model read before that.
        string folder = Path.GetFullPath(Path.Combine(Root, label));
        if (!TopicName.IsValid(label) || Path.GetDirectoryName(folder) != Path.TrimEndingDirectorySeparator(Root))
            throw new ArgumentException($"label '{label}' of part {part.Verdict.Id}: expected a class name that is a folder directly inside {Root} ({TopicName.Allowed})", nameof(label));
        string image = MoveInto(part.ImageFile, folder, part.Verdict.Id + ".png");
        string? overlay = part.OverlayFile is null ? null : MoveInto(part.OverlayFile, Path.Combine(Root, HeatmapFolder), part.Verdict.Id + ".jpg");
        return (image, overlay);
    }

    private static string MoveInto(string from, string folder, string name)
    {
        string to = Path.Combine(folder, name);
        if (from == to || (!File.Exists(from) && File.Exists(to))) return to;
        Directory.CreateDirectory(folder);
        File.Move(from, to, overwrite: true);
        return to;
    }
}
