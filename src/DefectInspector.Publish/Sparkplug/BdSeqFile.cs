using System.Globalization;

namespace DefectInspector.Publish.Sparkplug;

/// <summary>
/// The birth/death sequence number of the last MQTT CONNECT, kept in a file so that a restarted node goes on from it:
/// a host application matches an NDEATH to its NBIRTH by bdSeq, and a number reused after a restart could pair a stale
/// death with a fresh birth.
/// </summary>
internal sealed class BdSeqFile(string directory)
{
    public string FilePath { get; } = Path.Combine(directory, "sparkplug-bdseq");

    /// <summary>The number for the next CONNECT (0 the first time, then +1, 255 wraps to 0), written before it is used.</summary>
    public long Next()
    {
        long? last = Read();
        long next = last is { } previous ? (previous + 1) % 256 : 0;
        Write(next);
        return next;
    }

    private long? Read()
    {
        string text;
        try
        {
            text = File.ReadAllText(FilePath).Trim();
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"cannot read the Sparkplug bdSeq file {FilePath}: {e.Message}", e);
        }

        // A file that is not a number of the range (edited by hand) starts the count over rather than stopping the node.
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value is >= 0 and <= 255 ? value : null;
    }

    /// <summary>Through a temporary file and a rename, so a crash leaves the old number or the new one, never a torn file.</summary>
    private void Write(long value)
    {
        string temporary = $"{FilePath}.{Environment.ProcessId}.tmp";
        try
        {
            Directory.CreateDirectory(directory);
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
            {
                stream.Write(System.Text.Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture) + "\n"));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, FilePath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }

            throw new InvalidOperationException($"cannot write the Sparkplug bdSeq file {FilePath}: {e.Message}", e);
        }
    }
}
