namespace DefectInspector.Host.Options;

/// <summary>Configuration section "Storage": the daemon's state directory (demo model, folder journals).</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Empty = $STATE_DIRECTORY (set by systemd's StateDirectory=), else ~/.local/share/defect-inspector.</summary>
    public string Path { get; set; } = "";

    public string ResolvedPath => !string.IsNullOrWhiteSpace(Path) ? System.IO.Path.GetFullPath(Path)
        : Environment.GetEnvironmentVariable("STATE_DIRECTORY") is { Length: > 0 } state ? state.Split(':')[0]
        : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "defect-inspector");
}
