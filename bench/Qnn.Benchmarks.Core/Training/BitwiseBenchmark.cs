using System.Diagnostics;
using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;

using Qnn.Trainer;
using Qnn.Trainer.LowPrecision;

namespace Qnn.Benchmarks.Training;

/// <summary>What <see cref="BitwiseBenchmark.Run"/> measured (milliseconds per training step: forward, loss and backward).</summary>
public sealed record BitwiseBenchmarkResult(int Width, int Batch, int GradientBits, int Steps, int Threads,
    double FloatGradientsMs, double FloatProductsMs, double BitwiseMs, bool IdenticalUpdates)
{
    /// <summary>Float path time over bitwise path time, on the same k-bit gradients (above 1: the bitwise path is faster).</summary>
    public double Speedup => FloatProductsMs / BitwiseMs;
}

/// <summary>
/// Times the bitwise training path of dense layers against the float path (<c>qnn bench train</c>): the paper's
/// MLP shape (3 hidden binary dense layers and a 10-class head, 784 inputs, no dropout so that every product's
/// operands are levels) on the CPU backend, trained with the same k-bit gradients through
/// <see cref="ProductPath.Float"/> and <see cref="ProductPath.Bitwise"/>; float-gradient training (the trainer's
/// default path) is timed alongside for context. It also checks that the two paths' parameters are bit-identical
/// after the timed steps.
/// </summary>
public static class BitwiseBenchmark
{
    public static BitwiseBenchmarkResult Run(int width, int batch, int gradientBits, int steps, int seed = 1)
    {
        var shape = new Shape(28, 28, 1);
        var rng = new Random(seed);
        var pixels = new byte[batch * shape.Size];
        rng.NextBytes(pixels);
        var labels = Enumerable.Range(0, batch).Select(_ => (float)rng.Next(10)).ToArray();
        var (floatGradients, _) = Time(GradientQuantization.Off, ProductPath.Float);
        var (floatProducts, floatParams) = Time(gradientBits, ProductPath.Float);
        var (bitwise, bitParams) = Time(gradientBits, ProductPath.Bitwise);
        bool identical = floatParams.Zip(bitParams).All(p => p.First.AsSpan().SequenceEqual(p.Second));
        return new BitwiseBenchmarkResult(width, batch, gradientBits, steps, Environment.ProcessorCount, floatGradients, floatProducts, bitwise, identical);

        (double Ms, List<float[]> Parameters) Time(int bits, ProductPath path)
        {
            var layers = new List<Layer>();
            for (int i = 0; i < 3; i++) layers.AddRange([new BinaryDense(width), new BatchNorm(), new QuantizedActivation(1)]);
            layers.AddRange([new BinaryDense(10), new BatchNorm(sharedScale: true)]);
            var backend = new CpuBackend();
            using var net = new Network(backend, shape, 10, LowPrecisionTraining.Apply(layers, bits, "exact", seed, path), batch, seed);
            var optimizer = new Adam(backend);
            var parameters = net.Parameters.ToArray();
            using var labelTensor = backend.Allocate(batch);
            using var loss = backend.Allocate(batch);
            using var dScores = backend.Allocate(batch, 10);
            backend.Upload(labels, labelTensor);
            var idx = Enumerable.Range(0, batch).ToArray();
            var clock = new Stopwatch();
            for (int s = 0; s <= steps; s++)
            {
                net.SetInput(pixels, idx);
                if (s > 0) clock.Start();                       // step 0 warms up (JIT, buffers)
                var scores = net.Forward(batch, true, optimizer.Steps);
                backend.LossForwardBackward(LossKind.SquaredHinge, scores, labelTensor, batch, 10, loss, dScores);
                net.Backward(dScores, batch);
                clock.Stop();
                optimizer.Step(parameters, 0.001f);
            }
            var values = parameters.Select(p => { var a = new float[p.Value.Length]; backend.Download(p.Value, a); return a; }).ToList();
            return (clock.Elapsed.TotalMilliseconds / Math.Max(1, steps), values);
        }
    }
}
