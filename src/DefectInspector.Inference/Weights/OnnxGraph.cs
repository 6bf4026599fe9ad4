using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using DefectInspector.Inference.Weights.Onnx;
using Google.Protobuf;

namespace DefectInspector.Inference.Weights;

/// <summary>
/// One parsed ONNX file with its graph indexed by tensor name, so importers can walk the topology
/// (who produces and who consumes a value) instead of trusting exporter-specific node or initializer names.
/// Every failure names the file and what was expected there.
/// </summary>
internal sealed class OnnxGraph
{
    private const int FloatType = 1;

    private readonly Dictionary<string, NodeProto> producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<NodeProto>> consumers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TensorProto> initializers = new(StringComparer.Ordinal);

    private OnnxGraph(string role, string path, string sha256, long length, ModelProto model)
    {
        Role = role;
        Path = path;
        Sha256 = sha256;
        Length = length;
        Model = model;
        Graph = model.Graph;
        foreach (var tensor in Graph.Initializer) initializers[tensor.Name] = tensor;
        foreach (var node in Graph.Node)
        {
            foreach (string output in node.Output)
                if (!producers.TryAdd(output, node))
                    throw Unexpected("each value produced by one node (static single assignment)", $"two producers of '{output}'");
            foreach (string input in node.Input)
            {
                if (input.Length == 0) continue;
                if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = [];
                list.Add(node);
            }
        }
    }

    public string Path { get; }

    public string Sha256 { get; }

    public long Length { get; }

    public ModelProto Model { get; }

    public GraphProto Graph { get; }

    /// <summary>What the file expects to be, for messages: "the ImageNet ResNet-18 ONNX model".</summary>
    public string Role { get; }

    public static OnnxGraph Load(string path, string role)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string fullPath = System.IO.Path.GetFullPath(path);
        if (!File.Exists(fullPath))
            throw new FileNotFoundException($"{role} '{fullPath}' does not exist: expected an ONNX model file there.", fullPath);

        byte[] bytes = File.ReadAllBytes(fullPath);
        string sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException(
                $"{role} '{fullPath}' is not an ONNX model: expected a serialized onnx.ModelProto, but protobuf parsing failed ({e.Message}).", e);
        }

        // Protobuf accepts many byte strings (an empty file parses as an empty message), so "parsed" alone proves little.
        if (model.Graph is null || model.Graph.Node.Count == 0 || !model.HasIrVersion)
            throw new InvalidDataException(
                $"{role} '{fullPath}' is not an ONNX model: expected an onnx.ModelProto with an IR version and a graph of nodes, " +
                $"found {(model.HasIrVersion ? "no graph nodes" : "no IR version")}.");

        return new OnnxGraph(role, fullPath, sha256, bytes.LongLength, model);
    }

    public InvalidDataException Unexpected(string expected, string found) =>
        new($"{Role} '{Path}' has an unexpected graph: expected {expected}, found {found}.");

    public static string Describe(NodeProto node) => $"{node.OpType} node '{node.Name}'";

    public bool IsInitializer(string name) => initializers.ContainsKey(name);

    public bool IsGraphOutput(string name) => Graph.Output.Any(o => o.Name == name);

    public IReadOnlyList<NodeProto> Consumers(string value) =>
        consumers.TryGetValue(value, out var list) ? list : [];

    /// <summary>The only node that reads <paramref name="value"/>; it must have the given op type.</summary>
    public NodeProto SingleConsumer(string value, string opType, string expected)
    {
        var readers = Consumers(value);
        if (readers.Count != 1 || readers[0].OpType != opType)
            throw Unexpected(
                $"'{value}' to be read by exactly one {opType} node ({expected})",
                readers.Count == 0 ? "no reader" : string.Join(", ", readers.Select(Describe)));
        return readers[0];
    }

    /// <summary>The one graph input that is not an initializer (older IR versions also list initializers as inputs).</summary>
    public ValueInfoProto DataInput()
    {
        var inputs = Graph.Input.Where(i => !IsInitializer(i.Name)).ToList();
        if (inputs.Count != 1)
            throw Unexpected("exactly one data input", $"{inputs.Count}: {string.Join(", ", inputs.Select(i => i.Name))}");
        return inputs[0];
    }

    /// <summary>The value's static shape from the graph's inputs/outputs; all dimensions must be known numbers.</summary>
    public long[] StaticShape(ValueInfoProto value)
    {
        var dims = value.Type?.TensorType?.Shape?.Dim;
        if (dims is null || dims.Count == 0 || dims.Any(d => d.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue))
            throw Unexpected($"a fixed tensor shape for '{value.Name}'", "a missing or symbolic shape");
        return dims.Select(d => d.DimValue).ToArray();
    }

    /// <summary>A FLOAT initializer's values (from float_data or little-endian raw_data) and its dims.</summary>
    public float[] ReadFloats(string name, out long[] dims)
    {
        if (!initializers.TryGetValue(name, out var tensor))
            throw Unexpected($"'{name}' to be an initializer (a stored weight)", "a computed value");
        if (tensor.DataType != FloatType)
            throw Unexpected($"initializer '{name}' of type FLOAT (1)", $"data type {tensor.DataType}");
        dims = tensor.Dims.ToArray();
        long count = dims.Aggregate(1L, (a, d) => a * d);
        float[] values;
        if (tensor.HasRawData)
        {
            var raw = tensor.RawData.Span;
            if (raw.Length != count * sizeof(float))
                throw Unexpected($"{count} floats in raw_data of '{name}'", $"{raw.Length} bytes");
            values = new float[count];
            for (int i = 0; i < values.Length; i++)
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw.Slice(i * sizeof(float), sizeof(float)));
        }
        else
        {
            if (tensor.FloatData.Count != count)
                throw Unexpected($"{count} values in float_data of '{name}' (shape [{string.Join(",", dims)}])",
                    $"{tensor.FloatData.Count} (external data is not supported)");
            values = tensor.FloatData.ToArray();
        }
        return values;
    }

    public static AttributeProto? Attribute(NodeProto node, string name) =>
        node.Attribute.FirstOrDefault(a => a.Name == name);

    public static long[] Ints(NodeProto node, string name, long[] fallback) =>
        Attribute(node, name) is { } a ? a.Ints.ToArray() : fallback;

    public static long Int(NodeProto node, string name, long fallback) =>
        Attribute(node, name) is { HasI: true } a ? a.I : fallback;

    public static float Float(NodeProto node, string name, float fallback) =>
        Attribute(node, name) is { HasF: true } a ? a.F : fallback;

    public static string Text(NodeProto node, string name, string fallback) =>
        Attribute(node, name) is { HasS: true } a ? a.S.ToStringUtf8() : fallback;

    public static string Join(IEnumerable<long> values) =>
        "[" + string.Join(",", values.Select(v => v.ToString(CultureInfo.InvariantCulture))) + "]";
}
