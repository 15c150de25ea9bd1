using Qnn.Format;
using Qnn.Runtime.Edge.Fast;
using Qnn.Trainer.Backends;
using Qnn.Trainer.Export;
using Qnn.Trainer.Layers;
using Qnn.Trainer.LowPrecision;

namespace Qnn.Trainer.Gpu.Tests;

/// <summary>
/// The bitwise path of dense layers (XOR-popcount over bit-planes for the forward, the input gradient and the
/// weight gradient) against the float path on the same quantized gradients: the same forward integers and the
/// same parameters, bit for bit, step after step. And a network trained with k-bit gradients, shift-based batch
/// norm and AdaMax exports and runs on runtime-edge with the trainer's integer evaluation's scores.
/// </summary>
public sealed class BitwiseTrainingTests
{
    private static readonly Shape Image = new(10, 10, 1);   // 100 inputs: one full 64-bit word and a partial one
    private const int Classes = 4, Batch = 7, Steps = 4;

    private static List<Layer> Layers(int weightBits, int actBits) =>
    [
        new BinaryDense(70, weightBits), new BatchNorm(), new QuantizedActivation(actBits),
        new BinaryDense(65, 1), new BatchNorm(), new QuantizedActivation(1),
        new BinaryDense(Classes, weightBits), new BatchNorm(sharedScale: true),
    ];

    [Theory]
    [InlineData(1, 1, 6, "exact", "adam")]
    [InlineData(2, 2, 6, "shift", "adamax-shift")]
    [InlineData(1, 3, 4, "exact", "adamax-shift")]
    [InlineData(1, 1, 2, "shift", "adam")]
    [InlineData(1, 1, 6, "exact", "adam", GradientScale.Sample)]
    [InlineData(2, 3, 5, "shift", "adamax-shift", GradientScale.Sample)]
    [InlineData(3, 2, 2, "exact", "adam", GradientScale.Sample)]
    public void BitwiseUpdatesAreTheFloatPathsBitForBit(int weightBits, int actBits, int gradBits, string bn, string optimizer,
        GradientScale scale = GradientScale.Tensor)
    {
        var rng = new Random(weightBits * 100 + actBits * 10 + gradBits);
        var pixels = new byte[Batch * Steps * Image.Size];
        rng.NextBytes(pixels);
        var labels = Enumerable.Range(0, Batch * Steps).Select(_ => (byte)rng.Next(Classes)).ToArray();
        var (floatNet, floatTrace) = Train(ProductPath.Float, weightBits, actBits, gradBits, bn, optimizer, pixels, labels, scale);
        var (bitNet, bitTrace) = Train(ProductPath.Bitwise, weightBits, actBits, gradBits, bn, optimizer, pixels, labels, scale);
        Assert.All(bitNet.Layers.OfType<QuantizedBackward>(), q => Assert.Equal(q.Input.Bits != Network.InputBits, q.IsBitwise));
        Assert.All(floatNet.Layers.OfType<QuantizedBackward>(), q => Assert.False(q.IsBitwise));
        Assert.Equal(floatTrace.Count, bitTrace.Count);
        for (int i = 0; i < floatTrace.Count; i++)
            Assert.True(floatTrace[i].Values.AsSpan().SequenceEqual(bitTrace[i].Values), $"{floatTrace[i].What} differs");
        floatNet.Dispose();
        bitNet.Dispose();
    }

    /// <summary>Trains a few steps; the trace holds every layer's output and every parameter after each step.</summary>
    private static (Network Net, List<(string What, float[] Values)> Trace) Train(ProductPath path, int weightBits, int actBits, int gradBits,
        string bn, string optimizerName, byte[] pixels, byte[] labels, GradientScale scale = GradientScale.Tensor,
        Func<int, int, List<Layer>>? architecture = null)
    {
        var backend = new CpuBackend();
        var layers = LowPrecisionTraining.Apply((architecture ?? Layers)(weightBits, actBits), gradBits, bn, runSeed: 3, path, scale);
        var net = new Network(backend, Image, Classes, layers, Batch, seed: 3);
        var optimizer = Registry.Get(Registry.Optimizers, optimizerName, "optimizer")(backend);
        var parameters = net.Parameters.ToArray();
        var labelTensor = backend.Allocate(Batch);
        var loss = backend.Allocate(Batch);
        var dScores = backend.Allocate(Batch, Classes);
        var trace = new List<(string, float[])>();
        for (int s = 0; s < Steps; s++)
        {
            var idx = Enumerable.Range(s * Batch, Batch).ToArray();
            net.SetInput(pixels, idx);
            backend.Upload(idx.Select(i => (float)labels[i]).ToArray(), labelTensor);
            var scores = net.Forward(Batch, true, optimizer.Steps);
            trace.Add(($"step {s} scores", BackendPair.Read(backend, scores, Batch * Classes)));
            backend.LossForwardBackward(LossKind.SquaredHinge, scores, labelTensor, Batch, Classes, loss, dScores);
            net.Backward(dScores, Batch);
            for (int l = 0; l < net.Layers.Count; l++)
                if (net.Layers[l] is QuantizedBackward q)
                    trace.Add(($"step {s} layer {l} weight gradient", BackendPair.Read(backend, q.Parameters[0].Gradient)));
            optimizer.Step(parameters, 0.01f);
            for (int p = 0; p < parameters.Length; p++) trace.Add(($"step {s} parameter {p}", BackendPair.Read(backend, parameters[p].Value)));
        }
        return (net, trace);
    }

    /// <summary>
    /// Convolutions: a first conv on the image (float path: its input is the 8-bit image), then convs with padding and
    /// strides whose backward is XOR-popcount over the im2col of the ±1 input planes.
    /// </summary>
    private static List<Layer> ConvLayers(int weightBits, int actBits) =>
    [
        new BinaryConv2D(6, 3, 1, 1), new BatchNorm(), new QuantizedActivation(actBits),
        new BinaryConv2D(5, 3, 2, 1, weightBits), new BatchNorm(), new QuantizedActivation(actBits),
        new BinaryConv2D(7, 2, 1, 0, weightBits), new BatchNorm(), new QuantizedActivation(1),
        new BinaryDense(Classes, weightBits), new BatchNorm(sharedScale: true),
    ];

    [Theory]
    [InlineData(1, 1, 6, GradientScale.Tensor)]
    [InlineData(2, 3, 2, GradientScale.Tensor)]
    [InlineData(3, 2, 4, GradientScale.Tensor)]
    [InlineData(1, 1, 6, GradientScale.Sample)]
    [InlineData(2, 2, 3, GradientScale.Sample)]
    [InlineData(3, 3, 5, GradientScale.Sample)]
    public void BitwiseConvBackwardIsTheFloatPathsBitForBit(int weightBits, int actBits, int gradBits, GradientScale scale)
    {
        var rng = new Random(weightBits * 100 + actBits * 10 + gradBits + (int)scale);
        var pixels = new byte[Batch * Steps * Image.Size];
        rng.NextBytes(pixels);
        var labels = Enumerable.Range(0, Batch * Steps).Select(_ => (byte)rng.Next(Classes)).ToArray();
        var (floatNet, floatTrace) = Train(ProductPath.Float, weightBits, actBits, gradBits, "exact", "adam", pixels, labels, scale, ConvLayers);
        var (bitNet, bitTrace) = Train(ProductPath.Bitwise, weightBits, actBits, gradBits, "exact", "adam", pixels, labels, scale, ConvLayers);
        var bitConvs = bitNet.Layers.OfType<QuantizedBackward>().Where(q => q.Inner is BinaryConv2D).ToList();
        Assert.Equal([false, true, true], bitConvs.Select(q => q.IsBitwise));
        Assert.Equal(floatTrace.Count, bitTrace.Count);
        for (int i = 0; i < floatTrace.Count; i++)
            Assert.True(floatTrace[i].Values.AsSpan().SequenceEqual(bitTrace[i].Values), $"{floatTrace[i].What} differs");
        floatNet.Dispose();
        bitNet.Dispose();
    }

    [Fact]
    public void PerSampleScalesChangeTheUpdates_AndHiddenOnlyLeavesTheFirstAndLastLayersFloat()
    {
        var rng = new Random(11);
        var pixels = new byte[Batch * Steps * Image.Size];
        rng.NextBytes(pixels);
        var labels = Enumerable.Range(0, Batch * Steps).Select(_ => (byte)rng.Next(Classes)).ToArray();
        var (tensorNet, tensorTrace) = Train(ProductPath.Bitwise, 1, 1, 4, "exact", "adam", pixels, labels);
        var (sampleNet, sampleTrace) = Train(ProductPath.Bitwise, 1, 1, 4, "exact", "adam", pixels, labels, GradientScale.Sample);
        Assert.Contains(tensorTrace.Zip(sampleTrace), t => !t.First.Values.AsSpan().SequenceEqual(t.Second.Values));
        Assert.All(sampleNet.Layers.OfType<QuantizedBackward>(), q => Assert.Equal(GradientScale.Sample, q.ScaleMode));
        var hidden = LowPrecisionTraining.Apply(Layers(1, 1), 6, "exact", runSeed: 3, hiddenOnly: true);
        Assert.IsType<BinaryDense>(hidden[0]);
        Assert.IsType<QuantizedBackward>(hidden[3]);
        Assert.IsType<BinaryDense>(hidden[6]);
        Assert.Throws<ArgumentException>(() => GradientQuantization.ParseScale("row"));
        Assert.Throws<ArgumentException>(() => GradientQuantization.ParseHiddenOnly("middle"));
        tensorNet.Dispose();
        sampleNet.Dispose();
    }

    [Fact]
    public void ALowPrecisionNetworkExportsAndRunsAsTheTrainerEvaluatesIt()
    {
        var rng = new Random(5);
        var pixels = new byte[Batch * Steps * Image.Size];
        rng.NextBytes(pixels);
        var labels = Enumerable.Range(0, Batch * Steps).Select(_ => (byte)rng.Next(Classes)).ToArray();
        var (net, _) = Train(ProductPath.Bitwise, 1, 2, 6, "shift", "adamax-shift", pixels, labels);
        int count = Batch * Steps;
        var floatPredictions = new int[count];
        net.Evaluate(pixels, labels, 0, count, floatPredictions, out _, LossKind.SquaredHinge);
        var exported = ModelExporter.Export(net);
        var model = ModelFile.Parse(ModelWriter.Write(exported.Model), "low-precision.qnn");
        var (trainerScores, trainerPredictions) = IntegerEvaluation.Run(net, exported, pixels, 0, count);
        var scores = new int[count * Classes];
        var predictions = new int[count];
        new FastInterpreter(model).RunBatch(pixels, count, scores, predictions);
        Assert.Equal(trainerScores, scores);
        Assert.Equal(trainerPredictions, predictions);
        // The float graph (shift batch norm at inference) and the deployed integers agree except at exact score ties.
        Assert.True(floatPredictions.Zip(predictions).Count(p => p.First == p.Second) >= count - 1);
        net.Dispose();
    }
}
