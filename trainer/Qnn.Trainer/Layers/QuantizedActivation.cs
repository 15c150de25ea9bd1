using Qnn.Trainer.Quantization;
using Qnn.Trainer.Backends;

namespace Qnn.Trainer.Layers;

/// <summary>
/// The activation quantizer (<see cref="ActivationQuantizer"/>): k-bit odd levels of x clipped to [−1, 1] (k = 1: the
/// sign, sign(0) = +1), the paper's linear grid with 0, or stochastic binarization in training (the sign at
/// inference); all with the straight-through estimator whose gradient is cancelled where |x| &gt; 1
/// (<see cref="StraightThrough.HardTanh"/>). The quantizer is chosen by name (<see cref="Registry.Quantizers"/>).
/// </summary>
public sealed class QuantizedActivation(int bits, ActivationQuantizer quantizer = ActivationQuantizer.Odd) : Layer
{
    private Tensor x = null!, y = null!, dx = null!;

    public override string Kind => Quantizer switch
    {
        ActivationQuantizer.Linear => "ste_linear",
        ActivationQuantizer.Stochastic => "ste_stochastic_sign",
        _ => Bits == 1 ? "ste_sign" : "ste_levels",
    };

    public int Bits { get; } = bits is >= 1 and <= 8 ? bits : throw new ArgumentOutOfRangeException(nameof(bits), "activation bits are 1-8");

    public ActivationQuantizer Quantizer { get; } = quantizer == ActivationQuantizer.Stochastic && bits != 1
        ? throw new ArgumentOutOfRangeException(nameof(quantizer), "stochastic binarization is 1-bit")
        : quantizer;

    /// <summary>Set by the network: the run's seed and this layer's index, mixed with the step into the stochastic seed.</summary>
    public int RunSeed { get; set; }
    public int Index { get; set; }

    public override LayerInput Output => new(OutputShape, Bits, false, Quantizer == ActivationQuantizer.Linear);

    protected override void OnBuild(Random rng)
    {
        y = Buffer(Input.Shape);
        dx = Buffer(Input.Shape);
    }

    public override Tensor Forward(Tensor input, int batch, bool training, long step)
    {
        x = input;
        // Stochastic binarization is a training rule: inference (validation, test, export) takes the sign.
        var q = Quantizer == ActivationQuantizer.Stochastic && !training ? ActivationQuantizer.Odd : Quantizer;
        ulong seed = q == ActivationQuantizer.Stochastic ? StochasticBinarization.Seed(RunSeed, Index, step) : 0;
        Backend.QuantizeActivation(x, y, batch * Input.Shape.Size, Bits, q, seed);
        return y;
    }

    public override Tensor? Backward(Tensor dy, int batch)
    {
        // The stored level is (L, or 2^k for the linear grid) times the paper's activation: that factor inside [−1, 1].
        Backend.QuantizeBackward(x, dy, dx, batch * Input.Shape.Size, ActivationQuantizers.Scale(Quantizer, Bits), StraightThrough.HardTanh);
        return dx;
    }

    public override string Describe() => $"{Kind} {Input.Shape}, {Bits}-bit";
}
