using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;

namespace Qnn.Trainer.Quantization;

/// <summary>
/// The latent real weights of a binary (or m-bit) layer: initialized uniform in [−1, 1] and clipped there by the
/// optimizer (BinaryConnect), quantized by <see cref="Quantizer"/> (odd levels, log weights ±2^e, or stochastic ±1)
/// for the forward and backward passes, the gradient passed straight through to the latent weights (times the
/// quantizer's scale, since the values are stored unscaled: L for odd levels, 2^(E−1) for log weights).
/// </summary>
public sealed class LatentWeights
{
    public LatentWeights(IBackend backend, string name, int rows, int cols, int bits, float glorotFanIn, float glorotFanOut, Random rng,
        WeightQuantizer quantizer = WeightQuantizer.Odd)
    {
        Bits = bits;
        Quantizer = quantizer;
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
    public WeightQuantizer Quantizer { get; }
    /// <summary>Set by the network: the run's seed and the layer's index, for stochastic weights' draws.</summary>
    public int RunSeed { get; set; }
    public int Index { get; set; }
    public int Rows { get; }
    public int Cols { get; }
    public Tensor Latent { get; }
    public Tensor Quantized { get; }
    public Tensor QuantizedGradient { get; }
    public Tensor Gradient { get; }
    public Parameter Parameter { get; }

    /// <summary>
    /// The stored values of the weights for this step: stochastic weights draw new signs while training and take the
    /// deterministic sign otherwise (BNN: deployment is deterministic).
    /// </summary>
    public void Quantize(IBackend backend, bool training = false, long step = 0)
    {
        var q = Quantizer == WeightQuantizer.Stochastic && !training ? WeightQuantizer.Odd : Quantizer;
        if (q == WeightQuantizer.Odd) backend.Quantize(Latent, Quantized, Rows * Cols, Bits);
        else backend.QuantizeWeights(Latent, Quantized, Rows * Cols, Bits, q,
            q == WeightQuantizer.Stochastic ? StochasticBinarization.WeightSeed(RunSeed, Index, step) : 0);
    }

    /// <summary>
    /// dLatent = scale · dQuantized: <see cref="StraightThrough.Identity"/> (no cancellation, since the latent
    /// weights are clipped to [−1, 1] by the optimizer), scale L for odd levels and ±1, 2^(E−1) for log weights.
    /// </summary>
    public void PassGradient(IBackend backend) =>
        backend.QuantizeBackward(Latent, QuantizedGradient, Gradient, Rows * Cols, WeightQuantizers.Scale(Quantizer, Bits), StraightThrough.Identity);
}
