using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Weights;

/// <summary>
/// The safetensors format (an 8-byte little-endian header length, a JSON header, raw little-endian tensor data),
/// including its free-form string metadata, which model bundles use to carry their description.
/// </summary>
public static class SafetensorsFile
{
    private const string MetadataKey = "__metadata__";
    private const long MaxHeaderBytes = 100L * 1024 * 1024;

    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        using var stream = OpenOrExplain(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.Length < 8 || stream.ReadAtLeast(lengthBytes, 8, throwOnEndOfStream: false) < 8)
            throw new InvalidDataException($"{path}: not a safetensors file (shorter than its 8-byte header length)");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength < 2 || (long)headerLength > Math.Min(MaxHeaderBytes, stream.Length - 8))
            throw new InvalidDataException($"{path}: not a safetensors file (header length {headerLength} does not fit a {stream.Length}-byte file)");

        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLength;
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(header);
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Name == MetadataKey)
                {
                    foreach (var m in entry.Value.EnumerateObject())
                        metadata[m.Name] = m.Value.GetString() ?? "";
                    continue;
                }
                var dtype = ParseDType(entry.Value.GetProperty("dtype").GetString());
                long[] shape = entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                long[] offsets = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
                long length = offsets[1] - offsets[0];
                var tensor = empty(shape, dtype);
                if (length != tensor.NumberOfElements * tensor.ElementSize || dataStart + offsets[1] > stream.Length)
                    throw new InvalidDataException($"tensor '{entry.Name}': data_offsets [{offsets[0]}, {offsets[1]}] do not fit its shape or the file");
                var bytes = new byte[length];
                stream.Position = dataStart + offsets[0];
                stream.ReadExactly(bytes);
                tensor.bytes = bytes;
                tensors[entry.Name] = tensor;
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or InvalidDataException or IndexOutOfRangeException)
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw new InvalidDataException($"{path}: not a valid safetensors file: {e.Message}", e);
        }
        return (tensors, metadata);
    }

    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var ordered = tensors.Select(kv => (kv.Key, Tensor: kv.Value.detach().cpu().contiguous())).ToList();
        using var headerBuffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(headerBuffer))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in ordered)
            {
                long length = tensor.NumberOfElements * tensor.ElementSize;
                json.WriteStartObject(name);
                json.WriteString("dtype", FormatDType(tensor.dtype, name));
                json.WriteStartArray("shape");
                foreach (long d in tensor.shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += length;
            }
            json.WriteEndObject();
        }
        // Pad the header with spaces so tensor data starts 8-byte aligned, as the reference writer does.
        while (headerBuffer.Length % 8 != 0) headerBuffer.WriteByte((byte)' ');

        string temp = path + ".tmp";
        using (var file = File.Create(temp))
        {
            Span<byte> lengthBytes = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)headerBuffer.Length);
            file.Write(lengthBytes);
            headerBuffer.Position = 0;
            headerBuffer.CopyTo(file);
            foreach (var (_, tensor) in ordered) file.Write(tensor.bytes);
            file.Flush(flushToDisk: true);
        }
        // Write-then-rename: a crash mid-save never leaves a half-written model where a good one was.
        File.Move(temp, path, overwrite: true);
        foreach (var (_, tensor) in ordered) tensor.Dispose();
    }

    private static FileStream OpenOrExplain(string path) =>
        File.Exists(path) ? File.OpenRead(path) : throw new FileNotFoundException($"{path}: file not found", path);

    private static ScalarType ParseDType(string? name) => name switch
    {
        "F32" => ScalarType.Float32,
        "F16" => ScalarType.Float16,
        "BF16" => ScalarType.BFloat16,
        "F64" => ScalarType.Float64,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw new InvalidDataException($"dtype '{name}': expected one of F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL"),
    };

    private static string FormatDType(ScalarType type, string name) => type switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.Float16 => "F16",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float64 => "F64",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new ArgumentException($"tensor '{name}': dtype {type} has no safetensors name"),
    };
}
