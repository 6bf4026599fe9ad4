#nullable enable
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

// Sets VER_FLG_WEAK on one Vernaux entry (a version the library needs from libstdc++.so.6) so that
// ld.so accepts the library on hosts whose libstdc++ predates that version. Only ELF64 little-endian.
public class WeakenGlibcxxRequirement : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    [Required] public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();
    [Required] public string VersionName { get; set; } = "";

    public override bool Execute()
    {
        string? hostLib = FindHostLibStdCxx();
        if (hostLib != null && ContainsAscii(File.ReadAllBytes(hostLib), VersionName + "\0"))
        {
            Log.LogMessage(MessageImportance.Low, $"{hostLib} provides {VersionName}; libLibTorchSharp.so left as published.");
            return true;
        }

        foreach (ITaskItem item in Libraries)
        {
            string path = item.GetMetadata("FullPath");
            try
            {
                switch (Weaken(path))
                {
                    case Outcome.Patched:
                        Log.LogMessage(MessageImportance.High,
                            $"LibTorchSharp patch: host libstdc++ ({hostLib ?? "not found"}) lacks {VersionName}; marked that requirement weak in {path}");
                        break;
                    case Outcome.AlreadyWeak:
                        Log.LogMessage(MessageImportance.Normal, $"LibTorchSharp patch: {path} already patched");
                        break;
                    case Outcome.NotNeeded:
                        Log.LogMessage(MessageImportance.Normal, $"LibTorchSharp patch: {path} does not need {VersionName}");
                        break;
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                Log.LogError($"LibTorchSharp patch: cannot patch {path}: {e.Message}");
            }
        }
        return !Log.HasLoggedErrors;
    }

    private enum Outcome { Patched, AlreadyWeak, NotNeeded }

    private Outcome Weaken(string path)
    {
        byte[] elf = File.ReadAllBytes(path);
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("expected a 64-bit little-endian ELF file");

        ulong shOff = BitConverter.ToUInt64(elf, 0x28);
        int shEntSize = BitConverter.ToUInt16(elf, 0x3A);
        int shNum = BitConverter.ToUInt16(elf, 0x3C);

        for (int s = 0; s < shNum; s++)
        {
            int sh = checked((int)shOff + s * shEntSize);
            if (BitConverter.ToUInt32(elf, sh + 4) != ShtGnuVerneed) continue;

            int verneed = checked((int)BitConverter.ToUInt64(elf, sh + 0x18));
            int strTabIndex = (int)BitConverter.ToUInt32(elf, sh + 0x28);
            int entries = (int)BitConverter.ToUInt32(elf, sh + 0x2C);
            int strTab = checked((int)BitConverter.ToUInt64(elf, checked((int)shOff + strTabIndex * shEntSize) + 0x18));

            int vn = verneed;
            for (int i = 0; i < entries; i++)
            {
                string file = ReadCString(elf, strTab + (int)BitConverter.ToUInt32(elf, vn + 4));
                int auxCount = BitConverter.ToUInt16(elf, vn + 2);
                int aux = vn + (int)BitConverter.ToUInt32(elf, vn + 8);
                for (int j = 0; j < auxCount; j++)
                {
                    string name = ReadCString(elf, strTab + (int)BitConverter.ToUInt32(elf, aux + 8));
                    if (file == "libstdc++.so.6" && name == VersionName)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, aux + 4);
                        if ((flags & VerFlgWeak) != 0) return Outcome.AlreadyWeak;
                        flags |= VerFlgWeak;
                        elf[aux + 4] = (byte)(flags & 0xff);
                        elf[aux + 5] = (byte)(flags >> 8);
                        DateTime stamp = File.GetLastWriteTimeUtc(path);
                        File.WriteAllBytes(path, elf);
                        // Keep the stamp so incremental copies still see the file as up to date.
                        File.SetLastWriteTimeUtc(path, stamp);
                        return Outcome.Patched;
                    }
                    aux += (int)BitConverter.ToUInt32(elf, aux + 12);
                }
                vn += (int)BitConverter.ToUInt32(elf, vn + 12);
            }
        }
        return Outcome.NotNeeded;
    }

    private static string ReadCString(byte[] data, int offset)
    {
        int end = Array.IndexOf(data, (byte)0, offset);
        return Encoding.ASCII.GetString(data, offset, end - offset);
    }

    private static bool ContainsAscii(byte[] haystack, string needle)
    {
        byte[] n = Encoding.ASCII.GetBytes(needle);
        for (int i = 0; i <= haystack.Length - n.Length; i++)
        {
            int k = 0;
            while (k < n.Length && haystack[i + k] == n[k]) k++;
            if (k == n.Length) return true;
        }
        return false;
    }

    private static string? FindHostLibStdCxx()
    {
        foreach (string dir in new[] { "/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", "/usr/lib64", "/lib64", "/usr/lib", "/usr/lib/aarch64-linux-gnu" })
        {
            string candidate = Path.Combine(dir, "libstdc++.so.6");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
