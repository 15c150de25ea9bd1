using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;
using Qnn.Trainer.LowPrecision;
using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.Gpu.Tests;

/// <summary>
/// Training on the ILGPU backend (CPU accelerator) against the CPU backend: the same network, seed and batches for
/// several steps, for every layer kind (dropout, binary dense through the float GEMM and through XNOR, binary conv
/// with padding and 2-bit weights, max-pool, batch norm per channel and shared, sign and 2-bit activations, both
/// losses, Adam) and for the low-precision forms (k-bit gradients, shift-based batch norm, shift-based AdaMax).
/// The contract: every forward integer (product accumulators, activation levels) is equal, and every parameter after
/// every step is equal within <see cref="Tolerance"/> (relative, at least 1 absolute). On the CPU accelerator the
/// kernels repeat the CPU's operations, so the observed difference is 0; the tolerance is what a GPU, whose
/// compiler may contract or reorder float operations, is held to.
/// </summary>
[Collection(CpuAcceleratorCollection.Name)]
public sealed class TrainingParityTests(CpuAccelerator accelerator)
{
    public const float Tolerance = 1e-5f;

    private static readonly Shape Image = new(6, 6, 1);
    private const int Classes = 3, Batch = 5, Steps = 3;

    private static List<Layer> Mlp(int weightBits) =>
    [
        new Dropout(0.1f), new BinaryDense(24, weightBits), new BatchNorm(), new QuantizedActivation(1), new Dropout(0.2f),
        new BinaryDense(20, 1), new BatchNorm(), new QuantizedActivation(1),
        new BinaryDense(16, 1), new BatchNorm(), new QuantizedActivation(2),
        new BinaryDense(Classes, 1), new BatchNorm(sharedScale: true),
    ];

    /// <summary>Log weights (2 and 3 bits) and stochastic weights, for k-bit gradients on the float product path.</summary>
    private static List<Layer> MlpLogAndStochastic() =>
    [
        new BinaryDense(24, 2, WeightQuantizer.Log), new BatchNorm(), new QuantizedActivation(1),
        new BinaryDense(20, 1, WeightQuantizer.Stochastic), new BatchNorm(), new QuantizedActivation(2),
        new BinaryDense(16, 3, WeightQuantizer.Log), new BatchNorm(), new QuantizedActivation(1),
        new BinaryDense(Classes, 1), new BatchNorm(sharedScale: true),
    ];

    private static List<Layer> Conv() =>
    [
        new BinaryConv2D(5, 3, 1, 1, weightBits: 2), new MaxPool2D(2), new BatchNorm(), new QuantizedActivation(2),
        new BinaryConv2D(6, 3, 1, 1), new BatchNorm(), new QuantizedActivation(1), new MaxPool2D(2, 1),
        new BinaryDense(Classes), new BatchNorm(sharedScale: true),
    ];

    public static TheoryData<string, string, string, string, int, string, bool> Cases => new()
    {
        { "mlp", "squared_hinge", "adam", "exact", 32, "tensor", false },
        { "conv", "softmax_cross_entropy", "adam", "exact", 32, "tensor", false },
        { "mlp", "squared_hinge", "adamax-shift", "shift", 6, "tensor", false },
        { "conv", "softmax_cross_entropy", "adamax-shift", "shift", 4, "tensor", false },
        { "mlp2", "softmax_cross_entropy", "adam", "exact", 6, "tensor", false },
        { "mlp", "squared_hinge", "adam", "exact", 6, "sample", false },
        { "conv", "softmax_cross_entropy", "adam", "exact", 4, "sample", false },
        { "mlp2", "squared_hinge", "adam", "exact", 6, "tensor", true },
        { "conv", "softmax_cross_entropy", "adam", "exact", 3, "sample", true },
        { "mlplog", "squared_hinge", "adam", "exact", 6, "tensor", false },
        { "mlplog", "softmax_cross_entropy", "adamax-shift", "shift", 4, "sample", false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void SameForwardIntegersAndUpdatesAsTheCpuBackend(string arch, string loss, string optimizer, string bn, int gradBits, string scale, bool bitwise)
    {
        var rng = new Random(arch.Length * 31 + gradBits);
        var pixels = new byte[Batch * Steps * Image.Size];
        rng.NextBytes(pixels);
        var labels = Enumerable.Range(0, Batch * Steps).Select(_ => (float)rng.Next(Classes)).ToArray();
        var cpu = Run(new CpuBackend(), arch, loss, optimizer, bn, gradBits, pixels, labels, scale, bitwise);
        var gpu = Run(accelerator.Backend(), arch, loss, optimizer, bn, gradBits, pixels, labels, scale, bitwise);
        for (int s = 0; s < Steps; s++)
        {
            for (int l = 0; l < cpu[s].Outputs.Count; l++)
            {
                var (kind, c) = cpu[s].Outputs[l];
                var g = gpu[s].Outputs[l].Values;
                if (kind is "binary_dense" or "binary_conv2d" or "quantized_backward" or "ste_sign" or "ste_levels")
                    Assert.True(c.AsSpan().SequenceEqual(g), $"step {s}, layer {l} ({kind}): forward integers differ");
                else AssertClose(c, g, $"step {s}, layer {l} ({kind}) output");
            }
            for (int p = 0; p < cpu[s].Parameters.Count; p++)
                AssertClose(cpu[s].Parameters[p], gpu[s].Parameters[p], $"step {s}, parameter {p}");
        }
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!(MathF.Abs(expected[i] - actual[i]) <= Tolerance * MathF.Max(1f, MathF.Abs(expected[i]))))
                Assert.Fail($"{what}: element {i}: CPU {expected[i]:R}, ILGPU {actual[i]:R}");
    }

    private sealed record StepRecord(List<(string Kind, float[] Values)> Outputs, List<float[]> Parameters);

    /// <summary>Trains <see cref="Steps"/> steps, keeping every layer's training-mode output and every parameter after each step.</summary>
    private static List<StepRecord> Run(IBackend backend, string arch, string loss, string optimizerName, string bn, int gradBits, byte[] pixels, float[] labels, string scale, bool bitwise)
    {
        var layers = arch switch { "conv" => Conv(), "mlp2" => Mlp(2), "mlplog" => MlpLogAndStochastic(), _ => Mlp(1) };
        layers = LowPrecisionTraining.Apply(layers, gradBits, bn, runSeed: 7, bitwise ? ProductPath.Bitwise : ProductPath.Float, GradientQuantization.ParseScale(scale));
        using var net = new Network(backend, Image, Classes, layers, Batch, seed: 7);
        var optimizer = Registry.Get(Registry.Optimizers, optimizerName, "optimizer")(backend);
        var kind = Registry.Losses[loss];
        var parameters = net.Parameters.ToArray();
        using var input = backend.Allocate(Batch, Image.H, Image.W, Image.C);
        using var labelTensor = backend.Allocate(Batch);
        using var lossTensor = backend.Allocate(Batch);
        using var dScores = backend.Allocate(Batch, Classes);
        var records = new List<StepRecord>();
        for (int s = 0; s < Steps; s++)
        {
            int first = s * Batch;
            backend.Upload(pixels.AsSpan(first * Image.Size, Batch * Image.Size).ToArray().Select(Network.InputLevel).ToArray(), input);
            backend.Upload(labels.AsSpan(first, Batch), labelTensor);
            var outputs = new List<(string, float[])>();
            Tensor x = input;
            foreach (var layer in net.Layers)
            {
                x = layer.Forward(x, Batch, true, optimizer.Steps);
                outputs.Add((layer.Kind, BackendPair.Read(backend, x, Batch * layer.OutputShape.Size)));
            }
            backend.LossForwardBackward(kind, x, labelTensor, Batch, Classes, lossTensor, dScores);
            net.Backward(dScores, Batch);
            optimizer.Step(parameters, 0.01f);
            records.Add(new StepRecord(outputs, parameters.Select(p => BackendPair.Read(backend, p.Value)).ToList()));
        }
        return records;
    }
}
