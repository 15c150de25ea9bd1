using Qnn.Format;

namespace Qnn.Onnx;

/// <summary>A model that the ONNX export cannot express exactly; the message says which layer and why.</summary>
public sealed class OnnxExportException(string message) : QnnFormatException(message);

/// <summary>What an export produced: the ONNX bytes and the facts a user is told.</summary>
public sealed record OnnxExport(byte[] Bytes, int Opset, int NodeCount, long InitializerBytes, long MaxAccumulatorBound);

/// <summary>
/// Writes a .qnn model as a standard ONNX graph (default domain, opset 17) that computes the SAME integers as
/// format/SPEC.md, so that an independent runtime (ONNX Runtime) can check our runtimes and users can take
/// a trained model elsewhere.
///
/// Graph, per SPEC section:
/// <list type="bullet">
/// <item>input <c>image</c>: uint8 [batch, H, W, C], the 8-bit pixels; BitShift right by 8 − input bits (1.9),
///   Cast to float, Transpose to NCHW. The unsigned pixels p are used as they are: the first layer's bit-planes
///   sum to p (1.1), so a float conv over p gives the bit-plane accumulator.</item>
/// <item>signed activations are carried as their odd integer values v = 2q − L (1.1); weights are the m-bit
///   values Σ 2^i s_i as float initializers, layout [F, C, KH, KW]. Then Σ v·w is exactly the XOR-popcount
///   accumulator of 1.4. Dense is the Conv whose kernel is the whole input (1.4), so no flattening order arises.</item>
/// <item>padding (1.4): Pad with the lowest level −(2^k − 1) for signed input, Conv's zero padding for unsigned.</item>
/// <item>fused max-pool (1.5): MaxPool on the float accumulators; standalone MaxPool2D (1.8) on the values,
///   which order like the levels.</item>
/// <item>thresholds (1.6): q = Σ_l [s_c·acc ≥ s_c·t_c,l] with s_c = −1 for flipped channels (acc ≤ t ⇔ −acc ≥ −t),
///   one GreaterOrEqual broadcast over [L, 1, F, 1, 1], Cast, ReduceSum.</item>
/// <item>scores (1.7): the accumulator is Cast to int32 and multiplied by 2^shift and offset in int32, since
///   shifted scores and offsets reach 2^31; outputs <c>scores</c> int32 [batch, classes] and <c>class</c>, the
///   ArgMax (first index among ties, as 1.7 says) as int64 [batch].</item>
/// </list>
/// Exactness of the float math: every value in the float part is an integer. A Dense/Conv accumulator and every
/// partial sum of it is bounded by B = KH·KW·C·(2^m−1)·(2^k−1) (SPEC 4), whatever order the runtime adds in;
/// the export requires B &lt; 2^24 for every layer, so float32 represents all of them exactly (24-bit significand).
/// Thresholds are clamped to ±(B + 1), which changes no comparison with an accumulator in [−B, B] and keeps them
/// exact too. SPEC allows B up to 2^30; a layer past 2^24 is refused with a message rather than exported inexactly.
/// </summary>
public static class OnnxExporter
{
    public const int Opset = 17;

    /// <summary>Largest accumulator bound whose partial sums float32 holds exactly.</summary>
    public const long MaxExactBound = (1L << 24) - 1;

    public const string InputName = "image";
    public const string ScoresName = "scores";
    public const string ClassName = "class";

    /// <summary>Exports a model read with its layer data. Throws <see cref="OnnxExportException"/> for a layer past 2^24.</summary>
    public static OnnxExport Export(QnnModel model, string producerVersion = "0.1.0")
    {
        if (model.Layers[0].IsSequenceLayer)
            throw new OnnxExportException("sequence models (Embedding, LSTM, GRU; SPEC 1.10) are not exported to ONNX yet: the step graph with state inputs and outputs is not written");
        var g = new OnnxGraph("qnn_" + model.ModelId.ToString("x16"));
        string x = g.Input(InputName, OnnxType.UInt8, "batch", model.InputHeight, model.InputWidth, model.InputChannels);
        if (model.InputBits < 8)
            x = g.Node("BitShift", [x, g.Constant("input_shift", [(byte)(8 - model.InputBits)])], [OnnxAttribute.Of("direction", "RIGHT")]);
        x = g.Node("Cast", [x], [OnnxAttribute.Of("to", (long)OnnxType.Float)]);
        x = g.Node("Transpose", [x], [OnnxAttribute.Of("perm", 0L, 3, 1, 2)]);

        long maxBound = 0;
        for (int i = 0; i < model.Layers.Length; i++)
        {
            LayerSpec l = model.Layers[i];
            if (l.Kind == LayerKind.MaxPool2D)
            {
                x = MaxPool(g, x, l);
                continue;
            }
            long bound = l.AccumulatorBound;   // the validator has kept it below 2^30
            if (bound > MaxExactBound)
                throw new OnnxExportException($"layer {i} ({l.Kind}): accumulator bound {bound} reaches 2^24, past what float32 ONNX math holds exactly");
            maxBound = Math.Max(maxBound, bound);
            string acc = Accumulator(g, x, l, i);
            if (l.PoolH > 0) acc = MaxPool(g, acc, l);
            if (l.Output == OutputKind.Thresholds) x = Thresholds(g, acc, l, bound, i);
            else Scores(g, acc, l, model.ClassCount);
        }

        var metadata = new List<KeyValuePair<string, string>>
        {
            new("qnn_model_id", model.ModelId.ToString("x16")),
            new("qnn_semantics", "format/SPEC.md v1.0, integer outputs"),
        };
        // The graph takes the model's input as data-set samples are (SPEC 2.3): a camera frame or an image file
        // still needs the preprocessing the header asks for, so it is passed on.
        string[] preprocess = PreprocessNames.Of(model.PreprocessFlags);
        if (preprocess.Length > 0) metadata.Add(new("qnn_preprocess", string.Join(",", preprocess)));
        for (int k = 0; k < model.MetadataKeys.Length; k++) metadata.Add(new("qnn_" + model.MetadataKeys[k], model.MetadataValues[k]));
        if (model.Labels is { } labels) metadata.Add(new("labels", string.Join("\n", labels)));
        const string doc = "Exported by Qnn.Edge from a .qnn model. Input: 8-bit pixels [batch, H, W, C]. "
            + "Outputs: int32 class scores and the predicted class, equal to the Qnn.Edge runtimes' integers.";
        byte[] bytes = g.ToModel(Opset, "Qnn.Edge", producerVersion, metadata, doc);
        return new OnnxExport(bytes, Opset, g.NodeCount, g.InitializerBytes, maxBound);
    }


    /// <summary>The m-bit weight values Σ_i 2^i·s_i of a Dense/Conv2D layer as a float [F, C, KH, KW] tensor.</summary>
    public static float[] WeightValues(LayerSpec l)
    {
        uint[] words = l.Weights ?? throw new OnnxExportException("the model was read without its layer data");
        int f = l.OutC, c = l.InC, kh = l.KernelH, kw = l.KernelW, cw = l.InChannelWords, m = l.WeightBits;
        var values = new float[f * c * kh * kw];
        for (int o = 0; o < f; o++)
            for (int i = 0; i < m; i++)
                for (int y = 0; y < kh; y++)
                    for (int x = 0; x < kw; x++)
                    {
                        int word = (((o * m + i) * kh + y) * kw + x) * cw;
                        for (int ch = 0; ch < c; ch++)
                        {
                            bool plus = ((words[word + (ch >> 5)] >> (ch & 31)) & 1u) != 0;
                            values[((o * c + ch) * kh + y) * kw + x] += plus ? 1 << i : -(1 << i);
                        }
                    }
        return values;
    }

    private static string Accumulator(OnnxGraph g, string x, LayerSpec l, int index)
    {
        bool padded = (l.PadTop | l.PadLeft | l.PadBottom | l.PadRight) != 0;
        long[] convPads = [0, 0, 0, 0];
        if (padded && l.InputSigned)
        {
            // Padding bits are 0, i.e. every plane −1: the value −(2^k − 1), which Conv's own zero padding is not.
            long[] pads = [0, 0, l.PadTop, l.PadLeft, 0, 0, l.PadBottom, l.PadRight];
            x = g.Node("Pad", [x, g.Constant($"pads{index}", pads, 8), g.Scalar($"pad_value{index}", -((1 << l.InputBits) - 1))],
                [OnnxAttribute.Of("mode", "constant")]);
        }
        else if (padded)
        {
            convPads = [l.PadTop, l.PadLeft, l.PadBottom, l.PadRight]; // unsigned input pads with 0 (SPEC 1.4)
        }
        string w = g.Constant($"w{index}", WeightValues(l), l.OutC, l.InC, l.KernelH, l.KernelW);
        return g.Node("Conv", [x, w],
        [
            OnnxAttribute.Of("kernel_shape", l.KernelH, (long)l.KernelW),
            OnnxAttribute.Of("strides", l.StrideH, (long)l.StrideW),
            OnnxAttribute.Of("pads", convPads),
        ]);
    }

    private static string MaxPool(OnnxGraph g, string x, LayerSpec l) =>
        g.Node("MaxPool", [x],
        [
            OnnxAttribute.Of("kernel_shape", l.PoolH, (long)l.PoolW),
            OnnxAttribute.Of("strides", l.PoolStrideH, (long)l.PoolStrideW),
        ]);

    private static string Thresholds(OnnxGraph g, string acc, LayerSpec l, long bound, int index)
    {
        int f = l.OutC, levels = l.Levels;
        int[] t = l.Thresholds ?? throw new OnnxExportException($"layer {index}: no thresholds");
        var signs = new float[f];
        var thresholds = new float[levels * f]; // [L, 1, F, 1, 1]: broadcasts against [N, F, H, W]
        bool anyFlip = false;
        for (int c = 0; c < f; c++)
        {
            bool flip = l.IsFlipped(c);
            anyFlip |= flip;
            signs[c] = flip ? -1 : 1;
            for (int k = 0; k < levels; k++)
                thresholds[k * f + c] = signs[c] * Math.Clamp(t[c * levels + k], -bound - 1, bound + 1);
        }
        string signed = anyFlip ? g.Node("Mul", acc, g.Constant($"flip_signs{index}", signs, 1, f, 1, 1)) : acc;
        string above = g.Node("GreaterOrEqual", signed, g.Constant($"thresholds{index}", thresholds, levels, 1, f, 1, 1));
        string ones = g.Node("Cast", [above], [OnnxAttribute.Of("to", (long)OnnxType.Float)]);
        string q = g.Node("ReduceSum", [ones, g.Constant($"level_axis{index}", [0L], 1)], [OnnxAttribute.Of("keepdims", 0L)]);
        // Level q as the odd value 2q − L that the next layer multiplies by.
        string twice = g.Node("Mul", q, g.Scalar($"two{index}", 2));
        return g.Node("Sub", twice, g.Scalar($"levels{index}", levels));
    }

    private static void Scores(OnnxGraph g, string acc, LayerSpec l, int classes)
    {
        int[] shifts = l.Shifts ?? new int[classes];
        int[] offsets = l.Offsets ?? throw new OnnxExportException("last layer: no score offsets");
        string flat = g.Node("Flatten", [acc], [OnnxAttribute.Of("axis", 1L)]);
        string ints = g.Node("Cast", [flat], [OnnxAttribute.Of("to", (long)OnnxType.Int32)]);
        string scaled = g.Node("Mul", ints, g.Constant("score_scale", shifts.Select(s => 1 << s).ToArray(), classes));
        string scores = g.Node("Add", [scaled, g.Constant("score_offsets", offsets, classes)], output: ScoresName);
        g.Node("ArgMax", [scores], [OnnxAttribute.Of("axis", 1L), OnnxAttribute.Of("keepdims", 0L), OnnxAttribute.Of("select_last_index", 0L)], ClassName);
        g.Output(ScoresName, OnnxType.Int32, "batch", classes);
        g.Output(ClassName, OnnxType.Int64, "batch");
    }
}
