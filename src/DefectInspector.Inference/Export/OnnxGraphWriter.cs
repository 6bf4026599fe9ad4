using System.Runtime.InteropServices;
using DefectInspector.Inference.Weights.Onnx;
using Google.Protobuf;
using static TorchSharp.torch;

namespace DefectInspector.Inference.Export;

/// <summary>
/// Builds one ONNX graph node by node: each call adds a node or an initializer and returns the name of the value it
/// produces, so a model can write itself out in the order its forward pass runs.
/// </summary>
internal sealed class OnnxGraphWriter
{
    private const int FloatType = 1;
    private const int Int64Type = 7;

    private readonly GraphProto graph = new();
    private readonly Dictionary<string, int> counters = new(StringComparer.Ordinal);
    private readonly HashSet<string> constants = new(StringComparer.Ordinal);

    public GraphProto Graph => graph;

    /// <summary>A float32 graph input; null dims are dynamic and named by <paramref name="dimNames"/>.</summary>
    public string Input(string name, long?[] dims, string[] dimNames, string doc)
    {
        graph.Input.Add(ValueInfo(name, dims, dimNames, doc));
        return name;
    }

    /// <summary>Declares <paramref name="value"/> a float32 graph output, renamed to <paramref name="name"/>.</summary>
    public void Output(string value, string name, long?[] dims, string[] dimNames, string doc)
    {
        Node("Identity", [value], name: name);
        graph.Output.Add(ValueInfo(name, dims, dimNames, doc));
    }

    /// <summary>A float32 initializer with the values of <paramref name="tensor"/> (copied off its device).</summary>
    public string Weight(string name, Tensor tensor)
    {
        using var cpu = tensor.detach().cpu().contiguous().to_type(ScalarType.Float32);
        return Constant(name, cpu.shape, cpu.bytes.ToArray(), FloatType);
    }

    public string Floats(string name, float[] values, params long[] dims) =>
        Constant(name, dims, MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), FloatType);

    public string Int64s(string name, params long[] values) =>
        Constant(name, [values.Length], MemoryMarshal.AsBytes(values.AsSpan()).ToArray(), Int64Type);

    /// <summary>Adds one node; returns its (first) output's name, <paramref name="name"/> or a fresh one from the op.</summary>
    public string Node(string op, IReadOnlyList<string> inputs, string? name = null, params (string Name, object Value)[] attributes)
    {
        string output = name ?? Fresh(op);
        var node = new NodeProto { OpType = op, Name = output };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        foreach (var (key, value) in attributes) node.Attribute.Add(Attribute(key, value));
        graph.Node.Add(node);
        return output;
    }

    /// <summary>A node with several outputs (e.g. Split); returns their names.</summary>
    public string[] Nodes(string op, IReadOnlyList<string> inputs, int outputs, params (string Name, object Value)[] attributes)
    {
        string baseName = Fresh(op);
        var node = new NodeProto { OpType = op, Name = baseName };
        node.Input.AddRange(inputs);
        var names = Enumerable.Range(0, outputs).Select(i => $"{baseName}_{i}").ToArray();
        node.Output.AddRange(names);
        foreach (var (key, value) in attributes) node.Attribute.Add(Attribute(key, value));
        graph.Node.Add(node);
        return names;
    }

    /// <summary>Adds an initializer once; a later constant of the same name is the same value (e.g. an axis list) and reuses it.</summary>
    private string Constant(string name, IEnumerable<long> dims, byte[] raw, int type)
    {
        if (!constants.Add(name)) return name;
        var t = new TensorProto { Name = name, DataType = type, RawData = ByteString.CopyFrom(raw) };
        t.Dims.AddRange(dims);
        graph.Initializer.Add(t);
        return name;
    }

    private string Fresh(string op)
    {
        counters.TryGetValue(op, out int n);
        counters[op] = n + 1;
        return $"{op.ToLowerInvariant()}_{n}";
    }

    private static AttributeProto Attribute(string name, object value) => value switch
    {
        long i => new AttributeProto { Name = name, I = i, Type = 2 },
        int i => new AttributeProto { Name = name, I = i, Type = 2 },
        float f => new AttributeProto { Name = name, F = f, Type = 1 },
        string s => new AttributeProto { Name = name, S = ByteString.CopyFromUtf8(s), Type = 3 },
        long[] ints => WithInts(new AttributeProto { Name = name, Type = 7 }, ints),
        _ => throw new ArgumentException($"attribute {name}: unsupported value type {value.GetType().Name}"),
    };

    private static AttributeProto WithInts(AttributeProto attribute, long[] ints)
    {
        attribute.Ints.AddRange(ints);
        return attribute;
    }

    private static ValueInfoProto ValueInfo(string name, long?[] dims, string[] dimNames, string doc)
    {
        var shape = new TensorShapeProto();
        for (int i = 0; i < dims.Length; i++)
            shape.Dim.Add(dims[i] is long d ? new TensorShapeProto.Types.Dimension { DimValue = d } : new TensorShapeProto.Types.Dimension { DimParam = dimNames[i] });
        return new ValueInfoProto
        {
            Name = name,
            DocString = doc,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = FloatType, Shape = shape } },
        };
    }
}
