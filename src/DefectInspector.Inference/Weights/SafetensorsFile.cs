using System.Buffers.Binary;
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

    /// <summary>
    /// Reads every tensor and the metadata. The header is checked in full before any tensor is allocated (dtypes, shapes,
    /// and offsets that lie inside the data section, do not overlap and fit their shape), so a malformed or hostile file
    /// costs no more memory than its own size and fails with an <see cref="InvalidDataException"/> naming the field.
    /// </summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        using var stream = OpenOrExplain(path);
        Span<byte> lengthBytes = stackalloc byte[8];
        if (stream.Length < 8 || stream.ReadAtLeast(lengthBytes, 8, throwOnEndOfStream: false) < 8)
            throw new InvalidDataException($"{path}: not a safetensors file (shorter than its 8-byte header length)");
        // Unsigned throughout: a length of 2^63 or more is negative as a long and would pass a signed comparison.
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength < 2 || headerLength > MaxHeaderBytes || headerLength > (ulong)(stream.Length - 8))
            throw new InvalidDataException($"{path}: not a safetensors file (header length {headerLength}: expected 2 to {Math.Min(MaxHeaderBytes, stream.Length - 8)} bytes in this {stream.Length}-byte file)");

        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLength;
        var (entries, metadata) = ParseHeader(header, stream.Length - dataStart, path);

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (var entry in entries)
            {
                var tensor = empty(entry.Shape, entry.DType);
                tensors[entry.Name] = tensor;
                var bytes = new byte[entry.End - entry.Begin];
                stream.Position = dataStart + entry.Begin;
                stream.ReadExactly(bytes);
                tensor.bytes = bytes;
            }
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
        return (tensors, metadata);
    }

    private sealed record TensorEntry(string Name, ScalarType DType, long[] Shape, long Begin, long End);

    private static (List<TensorEntry> Entries, Dictionary<string, string> Metadata) ParseHeader(byte[] header, long dataLength, string path)
    {
        var entries = new List<TensorEntry>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(header);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"header: expected a JSON object, found {doc.RootElement.ValueKind}");
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (!names.Add(entry.Name))
                    throw new InvalidDataException($"'{entry.Name}': expected each name once in the header");
                if (entry.Name == MetadataKey)
                    ReadMetadata(entry.Value, metadata);
                else
                    entries.Add(ReadEntry(entry.Name, entry.Value, dataLength));
            }
        }
        catch (Exception e) when (e is JsonException or InvalidDataException)
        {
            throw new InvalidDataException($"{path}: not a valid safetensors file: {e.Message}", e);
        }

        // Overlapping ranges would load the same bytes as many tensors, multiplying memory beyond the file's size.
        var ordered = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        for (int i = 1; i < ordered.Count; i++)
            if (ordered[i].Begin < ordered[i - 1].End)
                throw new InvalidDataException($"{path}: not a valid safetensors file: tensor '{ordered[i].Name}': data_offsets [{ordered[i].Begin}, {ordered[i].End}] overlap tensor '{ordered[i - 1].Name}' [{ordered[i - 1].Begin}, {ordered[i - 1].End}]; expected each tensor's bytes apart");
        return (entries, metadata);
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{MetadataKey}: expected an object of strings, found {value.ValueKind}");
        foreach (var m in value.EnumerateObject())
            metadata[m.Name] = m.Value.ValueKind == JsonValueKind.String
                ? m.Value.GetString()!
                : throw new InvalidDataException($"{MetadataKey}.{m.Name}: expected a string, found {m.Value.ValueKind}");
    }

    private static TensorEntry ReadEntry(string name, JsonElement value, long dataLength)
    {
        string what = $"tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{what}: expected an object with dtype, shape and data_offsets, found {value.ValueKind}");
        var dtype = value.TryGetProperty("dtype", out var d) && d.ValueKind == JsonValueKind.String
            ? ParseDType(d.GetString(), what)
            : throw new InvalidDataException($"{what}: dtype: expected a string such as \"F32\"");
        long[] shape = Integers(value, "shape", what, count: null);
        long[] offsets = Integers(value, "data_offsets", what, count: 2);
        long elements = 1;
        try
        {
            foreach (long dim in shape) elements = checked(elements * dim);
            long expected = checked(elements * ElementSize(dtype));
            if (offsets[0] > offsets[1] || offsets[1] - offsets[0] != expected)
                throw new InvalidDataException($"{what}: data_offsets [{offsets[0]}, {offsets[1]}]: expected a range of {expected} bytes for shape [{string.Join(", ", shape)}] of {FormatDType(dtype, name)}");
        }
        catch (OverflowException)
        {
            throw new InvalidDataException($"{what}: shape [{string.Join(", ", shape)}]: expected a tensor whose size in bytes fits in 64 bits");
        }
        if (offsets[1] > dataLength)
            throw new InvalidDataException($"{what}: data_offsets [{offsets[0]}, {offsets[1]}]: expected a range inside the {dataLength}-byte data section");
        return new TensorEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] Integers(JsonElement value, string field, string what, int? count)
    {
        if (!value.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{what}: {field}: expected an array of non-negative integers");
        var numbers = new List<long>();
        foreach (var e in array.EnumerateArray())
            numbers.Add(e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long n) && n >= 0
                ? n
                : throw new InvalidDataException($"{what}: {field}: {e.GetRawText()} is not a non-negative integer"));
        if (count is { } expected && numbers.Count != expected)
            throw new InvalidDataException($"{what}: {field}: expected {expected} integers, found {numbers.Count}");
        return [.. numbers];
    }

    private static int ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };

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

    private static ScalarType ParseDType(string? name, string what) => name switch
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
        _ => throw new InvalidDataException($"{what}: dtype '{name}': expected one of F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL"),
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
