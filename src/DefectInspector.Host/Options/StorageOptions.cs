using DefectInspector.Publish.Outbox;

namespace DefectInspector.Host.Options;

/// <summary>
/// Configuration section "Storage": the daemon's state directory (demo model, folder journals, the outbox, the
/// snapshot archive) and how much of the disk the outbox and the archive may take.
/// </summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Empty = $STATE_DIRECTORY (set by systemd's StateDirectory=), else ~/.local/share/defect-inspector.</summary>
    public string Path { get; set; } = "";

    /// <summary>Size cap of the outbox (undelivered messages); beyond it OK verdicts give way, NG ones never.</summary>
    public int OutboxMaxMegabytes { get; set; } = 512;

    /// <summary>Days the JPEG snapshots of NG and uncertain parts are kept under snapshots/; 0 = no archive.</summary>
    public int SnapshotArchiveDays { get; set; } = 30;

    /// <summary>Size cap of the snapshot archive; the oldest snapshots go first.</summary>
    public int SnapshotArchiveMaxMegabytes { get; set; } = 2048;

    public string OutboxFile => System.IO.Path.Combine(ResolvedPath, SqliteOutbox.FileName);

    public string SnapshotFolder => System.IO.Path.Combine(ResolvedPath, "snapshots");

    public string ResolvedPath => !string.IsNullOrWhiteSpace(Path) ? System.IO.Path.GetFullPath(Path)
        : Environment.GetEnvironmentVariable("STATE_DIRECTORY") is { Length: > 0 } state ? state.Split(':')[0]
        : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "defect-inspector");
}
