using Qnn.Format;

namespace Qnn.Onnx;

/// <summary>A float ONNX network and its parameter count.</summary>
public sealed record FloatNetworkModel(byte[] Bytes, long Parameters, int InputChannels, int InputHeight, int InputWidth, int Classes);

/// <summary>
/// The baseline of the benchmarks: the float network of the same shape as a .qnn model, as a .NET developer
/// deploys it today (a float PyTorch/Keras model exported to ONNX and run by ONNX Runtime): float32 weights and
/// activations, Gemm for Dense, Conv with zero padding, MaxPool, BatchNormalization and Relu after every hidden
/// layer (BNN's order: product → pool → batch norm → activation), float logits out. Weights are random
/// (Glorot-uniform from a seed): the cost of the graph depends on its shapes, not on what it learned.
/// Input <c>input</c>: float [batch, C, H, W]; output <c>logits</c>: float [batch, classes].
/// </summary>
public static class FloatNetwork
{
    public const string InputName = "input";
    public const string OutputName = "logits";

    public static FloatNetworkModel Build(QnnModel shape, int seed = 1)
    {
        var rng = new Random(seed);
        var g = new OnnxGraph("float_baseline");
        string x = g.Input(InputName, OnnxType.Float, "batch", shape.InputChannels, shape.InputHeight, shape.InputWidth);
        bool flat = false;
        long parameters = 0;
        for (int i = 0; i < shape.Layers.Length; i++)
        {
            LayerSpec l = shape.Layers[i];
            bool last = l.Output == OutputKind.Scores;
            if (l.Kind == LayerKind.MaxPool2D)
            {
                x = g.Node("MaxPool", [x], [OnnxAttribute.Of("kernel_shape", l.PoolH, (long)l.PoolW), OnnxAttribute.Of("strides", l.PoolStrideH, (long)l.PoolStrideW)]);
                continue;
            }
            if (l.Kind == LayerKind.Dense)
            {
                if (!flat) x = g.Node("Flatten", [x], [OnnxAttribute.Of("axis", 1L)]);
                flat = true;
                int fanIn = l.InH * l.InW * l.InC;
                x = g.Node("Gemm", x, g.Constant($"w{i}", Glorot(rng, fanIn, l.OutC, fanIn * l.OutC), fanIn, l.OutC), g.Constant($"b{i}", new float[l.OutC], l.OutC));
                parameters += (long)fanIn * l.OutC + l.OutC;
            }
            else
            {
                if (flat) x = g.Node("Reshape", x, g.Constant($"shape{i}", [-1L, l.InC, l.InH, l.InW], 4));
                flat = false;
                int fanIn = l.KernelH * l.KernelW * l.InC;
                x = g.Node("Conv", [x, g.Constant($"w{i}", Glorot(rng, fanIn, l.OutC, fanIn * l.OutC), l.OutC, l.InC, l.KernelH, l.KernelW), g.Constant($"b{i}", new float[l.OutC], l.OutC)],
                [
                    OnnxAttribute.Of("kernel_shape", l.KernelH, (long)l.KernelW),
                    OnnxAttribute.Of("strides", l.StrideH, (long)l.StrideW),
                    OnnxAttribute.Of("pads", l.PadTop, l.PadLeft, l.PadBottom, (long)l.PadRight),
                ]);
                parameters += (long)fanIn * l.OutC + l.OutC;
                if (l.PoolH > 0)
                    x = g.Node("MaxPool", [x], [OnnxAttribute.Of("kernel_shape", l.PoolH, (long)l.PoolW), OnnxAttribute.Of("strides", l.PoolStrideH, (long)l.PoolStrideW)]);
            }
            if (last)
            {
                if (!flat) x = g.Node("Flatten", [x], [OnnxAttribute.Of("axis", 1L)]);
                g.Node("Identity", [x], output: OutputName);
                g.Output(OutputName, OnnxType.Float, "batch", l.OutC);
                break;
            }
            var ones = Enumerable.Repeat(1f, l.OutC).ToArray();
            x = g.Node("BatchNormalization", [x, g.Constant($"gamma{i}", ones, l.OutC), g.Constant($"beta{i}", new float[l.OutC], l.OutC),
                g.Constant($"mean{i}", new float[l.OutC], l.OutC), g.Constant($"var{i}", ones, l.OutC)]);
            parameters += 4L * l.OutC;
            x = g.Node("Relu", x);
        }
        byte[] bytes = g.ToModel(OnnxExporter.Opset, "Qnn.Edge float baseline", "0", null, "Float network of the same shape as a .qnn model, random weights.");
        return new FloatNetworkModel(bytes, parameters, shape.InputChannels, shape.InputHeight, shape.InputWidth, shape.ClassCount);
    }

    private static float[] Glorot(Random rng, int fanIn, int fanOut, int count)
    {
        float limit = MathF.Sqrt(6f / (fanIn + fanOut));
        var w = new float[count];
        for (int i = 0; i < count; i++) w[i] = (float)(rng.NextDouble() * 2 - 1) * limit;
        return w;
    }
}
