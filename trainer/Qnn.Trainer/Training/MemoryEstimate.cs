using Qnn.Trainer.Layers;
using Qnn.Trainer.LowPrecision;

namespace Qnn.Trainer.Training;

/// <summary>
/// What a network of layers costs to train, computed from the layer list before anything is allocated, so that a
/// --width too large for the machine is refused in one line instead of growing for minutes or overflowing an index.
/// Counted: every weight's latent value, quantized value, two gradients, Adam's two moments, the best-validation
/// snapshot and the checkpoint's two host copies (9 floats); every layer's output and input-gradient buffers for
/// the batch; a convolution's two im2col buffers. Batch norm and other per-channel vectors are left out (small).
/// </summary>
public static class MemoryEstimate
{
    /// <summary>Floats kept per weight (see the class summary).</summary>
    public const long FloatsPerWeight = 9;

    /// <summary>The largest tensor a backend allocates: a float array's length.</summary>
    public const long MaxTensorFloats = int.MaxValue;

    /// <summary>A checkpoint is built in one array before it is written: at most this many bytes.</summary>
    public const long MaxCheckpointBytes = int.MaxValue;

    /// <summary>The estimate: total bytes, the float count of the largest single tensor, and the weights.</summary>
    public readonly record struct Estimate(long Bytes, long LargestTensor, long Weights)
    {
        /// <summary>A checkpoint holds four floats per weight: the value, Adam's two moments, the best-validation snapshot.</summary>
        public long CheckpointBytes => 16 * Weights;
    }

    public static Estimate Of(IReadOnlyList<Layer> layers, Shape input, int batch)
    {
        // long arithmetic throughout (a width of 65536 squared overflows int), saturating at long.MaxValue is not needed:
        // the largest accepted width and batch stay below 2^63.
        long bytes = 0, largest = 0, allWeights = 0;
        var shape = input;
        foreach (var l in layers)
        {
            var layer = l is QuantizedBackward q ? q.Inner : l;
            long inSize = Size(shape);
            var output = layer.OutputFor(shape);
            long outSize = Size(output);
            long weights = layer switch
            {
                BinaryDense d => inSize * d.Units,
                BinaryConv2D c => (long)c.KernelSize * c.KernelSize * shape.C * c.Filters,
                _ => 0,
            };
            long cols = layer is BinaryConv2D conv ? (long)batch * output.H * output.W * conv.KernelSize * conv.KernelSize * shape.C : 0;
            allWeights += weights;
            bytes += 4 * (FloatsPerWeight * weights + 2 * cols + (long)batch * (inSize + outSize));
            largest = Math.Max(largest, Math.Max(weights, Math.Max(cols, batch * Math.Max(inSize, outSize))));
            shape = output;
        }
        return new Estimate(bytes, largest, allWeights);
    }

    /// <summary>What training may use: three quarters of the memory this process can have (the machine's, or its container's limit).</summary>
    public static long Budget => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4 * 3;

    /// <summary>Bytes in GB with one decimal, for messages.</summary>
    public static string Gb(long bytes) => $"{bytes / 1e9:F1} GB";

    private static long Size(Shape s) => (long)s.H * s.W * s.C;
}
