namespace DefectInspector.Host.Hosting;

/// <summary>
/// The model the daemon serves when Model:Path is empty. The `defect-inspector` command supplies the built-in demo model
/// (trained into the state directory on first start), so the daemon itself knows nothing of training.
/// </summary>
public interface IDefaultModel
{
    /// <summary>The path of the model bundle in <paramref name="folder"/>, made there first if it is not there yet.</summary>
    string Ensure(string folder, string device, CancellationToken cancellation);
}
