namespace DefectInspector.Tests.Shared;

/// <summary>A fresh folder per test, removed afterwards, so tests never see each other's files.</summary>
internal sealed class TempFolder : IDisposable
{
    /// <param name="prefix">Names the folder after its tests, so one left behind in /tmp says whose it is.</param>
    public TempFolder(string prefix = "di-test-") => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    public string Path { get; }

    /// <summary>The absolute path of <paramref name="relative"/> ('/'-separated), its folder created.</summary>
    public string File(string relative)
    {
        var path = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        return path;
    }

    public string Folder(string relative) => Directory.CreateDirectory(System.IO.Path.Combine(Path, relative)).FullName;

    public string Text(string relative, string content)
    {
        var path = File(relative);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is not worth failing a test over.
        }
    }
}
