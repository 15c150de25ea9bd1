using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;

namespace Qnn.Trainer.Quantization;

/// <summary>
/// The latent real weights of a binary (or m-bit) layer: initialized uniform in [−1, 1] and clipped there by the
/// optimizer (BinaryConnect), quantized to odd levels for the forward and backward passes, the gradient passed
/// straight through to the latent weights (times L, since the levels are stored unscaled).
/// </summary>
public sealed class LatentWeights
{
    public LatentWeights(IBackend backend, string name, int rows, int cols, int bits, float glorotFanIn, float glorotFanOut, Random rng)
    {
        Bits = bits;
        Rows = rows;
        Cols = cols;
        var init = new float[rows * cols];
        for (int i = 0; i < init.Length; i++) init[i] = (float)(rng.NextDouble() * 2 - 1);
        Latent = backend.Allocate(rows, cols);
        backend.Upload(init, Latent);
        Quantized = backend.Allocate(rows, cols);
        QuantizedGradient = backend.Allocate(rows, cols);
        Gradient = backend.Allocate(rows, cols);
        // The paper's "W_LR_scale = 1 / sqrt(1.5 / (fan_in + fan_out))" (Glorot's bound) for binary weights.
        float lrScale = (float)(1.0 / Math.Sqrt(1.5 / (glorotFanIn + glorotFanOut)));
        Parameter = new Parameter(name, Latent, Gradient, lrScale, -1f, 1f);
    }

    public int Bits { get; }
    public int Rows { get; }
    public int Cols { get; }
    public Tensor Latent { get; }
    public Tensor Quantized { get; }
    public Tensor QuantizedGradient { get; }
    public Tensor Gradient { get; }
    public Parameter Parameter { get; }

    public void Quantize(IBackend backend) => backend.Quantize(Latent, Quantized, Rows * Cols, Bits);

    /// <summary>
    /// dLatent = L · dQuantized: <see cref="StraightThrough.Identity"/> (no cancellation, since the latent
    /// weights are clipped to [−1, 1] by the optimizer).
    /// </summary>
    public void PassGradient(IBackend backend) =>
        backend.QuantizeBackward(Latent, QuantizedGradient, Gradient, Rows * Cols, Levels.Max(Bits), StraightThrough.Identity);
}
