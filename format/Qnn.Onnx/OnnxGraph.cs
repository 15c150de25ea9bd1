using System.Runtime.InteropServices;

namespace Qnn.Onnx;

/// <summary>ONNX element types (TensorProto.DataType) that the exporters use.</summary>
public enum OnnxType { Float = 1, UInt8 = 2, Int8 = 3, Int32 = 6, Int64 = 7, Bool = 9, Double = 11 }

/// <summary>One node attribute: an int, a list of ints, a float or a string.</summary>
public sealed record OnnxAttribute(string Name, long? Int = null, long[]? Ints = null, float? Float = null, string? Text = null)
{
    public static OnnxAttribute Of(string name, long value) => new(name, Int: value);
    public static OnnxAttribute Of(string name, params long[] values) => new(name, Ints: values);
    public static OnnxAttribute Of(string name, float value) => new(name, Float: value);
    public static OnnxAttribute Of(string name, string value) => new(name, Text: value);
}

/// <summary>
/// Builds an ONNX graph (nodes, initializers, inputs, outputs) and writes it as a ModelProto
/// (onnx/onnx.proto, IR version 8, default domain at the given opset). Each node gets a fresh output name,
/// so the exporters read as straight-line code: <c>var y = g.Node("Conv", x, w);</c>.
/// </summary>
public sealed class OnnxGraph(string name)
{
    /// <summary>IR version 8 is the one that goes with opsets 15–17 (onnx/docs/Versioning.md).</summary>
    public const long IrVersion = 8;

    private readonly List<ProtoWriter> _nodes = [];
    private readonly List<ProtoWriter> _initializers = [];
    private readonly List<ProtoWriter> _inputs = [];
    private readonly List<ProtoWriter> _outputs = [];
    private readonly HashSet<string> _names = [];
    private int _counter;

    /// <summary>Bytes of all initializers: the weights an ONNX file carries.</summary>
    public long InitializerBytes { get; private set; }

    public int NodeCount => _nodes.Count;

    /// <summary>A graph input; a dimension given as a string is symbolic (the batch).</summary>
    public string Input(string tensorName, OnnxType type, params object[] dims)
    {
        Claim(tensorName);
        _inputs.Add(ValueInfo(tensorName, type, dims));
        return tensorName;
    }

    /// <summary>Declares an existing tensor as a graph output.</summary>
    public void Output(string tensorName, OnnxType type, params object[] dims) => _outputs.Add(ValueInfo(tensorName, type, dims));

    /// <summary>Adds the node and returns the name of its (single) output; <paramref name="output"/> names it.</summary>
    public string Node(string opType, string[] inputs, OnnxAttribute[]? attributes = null, string? output = null)
    {
        output ??= Fresh(opType.ToLowerInvariant());
        Claim(output);
        var node = new ProtoWriter();
        foreach (string input in inputs) node.String(1, input);
        node.String(2, output);
        node.String(3, output + "_node");
        node.String(4, opType);
        foreach (var a in attributes ?? []) node.Message(5, Attribute(a));
        _nodes.Add(node);
        return output;
    }

    public string Node(string opType, params string[] inputs) => Node(opType, inputs, null);

    public string Constant(string hint, float[] values, params long[] dims) => Initializer(hint, OnnxType.Float, dims, MemoryMarshal.AsBytes(values.AsSpan()));
    public string Constant(string hint, int[] values, params long[] dims) => Initializer(hint, OnnxType.Int32, dims, MemoryMarshal.AsBytes(values.AsSpan()));
    public string Constant(string hint, long[] values, params long[] dims) => Initializer(hint, OnnxType.Int64, dims, MemoryMarshal.AsBytes(values.AsSpan()));
    public string Constant(string hint, byte[] values, params long[] dims) => Initializer(hint, OnnxType.UInt8, dims, values);

    /// <summary>A one-element float constant of rank 0, for broadcasting.</summary>
    public string Scalar(string hint, float value) => Constant(hint, [value]);

    /// <summary>
    /// The ModelProto bytes. Raw tensor data is little-endian (ONNX's rule); so is every machine .NET runs this on,
    /// which is why the arrays are copied as they lie in memory.
    /// </summary>
    public byte[] ToModel(int opset, string producer, string producerVersion, IReadOnlyList<KeyValuePair<string, string>>? metadata = null, string? doc = null)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw_data is little-endian");
        var graph = new ProtoWriter();
        foreach (var n in _nodes) graph.Message(1, n);
        graph.String(2, name);
        foreach (var t in _initializers) graph.Message(5, t);
        if (doc != null) graph.String(10, doc);
        foreach (var i in _inputs) graph.Message(11, i);
        foreach (var o in _outputs) graph.Message(12, o);

        var model = new ProtoWriter();
        model.Varint(1, IrVersion);
        model.String(2, producer);
        model.String(3, producerVersion);
        model.Message(7, graph);
        model.Message(8, new ProtoWriter().String(1, "").Varint(2, opset));
        foreach (var kv in metadata ?? [])
            model.Message(14, new ProtoWriter().String(1, kv.Key).String(2, kv.Value));
        return model.ToArray();
    }

    private string Initializer(string hint, OnnxType type, long[] dims, ReadOnlySpan<byte> raw)
    {
        string tensorName = Fresh(hint);
        Claim(tensorName);
        var t = new ProtoWriter();
        foreach (long d in dims) t.Varint(1, d);
        t.Varint(2, (long)type);
        t.String(8, tensorName);
        t.Bytes(9, raw);
        _initializers.Add(t);
        InitializerBytes += raw.Length;
        return tensorName;
    }

    private static ProtoWriter ValueInfo(string tensorName, OnnxType type, object[] dims)
    {
        var shape = new ProtoWriter();
        foreach (object d in dims)
        {
            var dim = new ProtoWriter();
            if (d is string symbol) dim.String(2, symbol);
            else dim.Varint(1, Convert.ToInt64(d));
            shape.Message(1, dim);
        }
        var tensor = new ProtoWriter().Varint(1, (long)type).Message(2, shape);
        return new ProtoWriter().String(1, tensorName).Message(2, new ProtoWriter().Message(1, tensor));
    }

    private static ProtoWriter Attribute(OnnxAttribute a)
    {
        // AttributeProto: name = 1, f = 2, i = 3, s = 4, ints = 8, type = 20 (FLOAT 1, INT 2, STRING 3, INTS 7).
        var w = new ProtoWriter().String(1, a.Name);
        if (a.Int is { } i) w.Varint(3, i).Varint(20, 2);
        else if (a.Ints is { } ints) { foreach (long x in ints) w.Varint(8, x); w.Varint(20, 7); }
        else if (a.Float is { } f) w.Float(2, f).Varint(20, 1);
        else if (a.Text is { } s) w.String(4, s).Varint(20, 3);
        else throw new ArgumentException($"attribute {a.Name} has no value");
        return w;
    }

    private string Fresh(string hint)
    {
        string candidate;
        do candidate = $"{hint}_{_counter++}"; while (_names.Contains(candidate));
        return candidate;
    }

    private void Claim(string tensorName)
    {
        if (!_names.Add(tensorName)) throw new ArgumentException($"tensor name {tensorName} is used twice");
    }
}
