using Qnn.Trainer.Quantization;
using Qnn.Trainer.Backends;

namespace Qnn.Trainer.Layers;

/// <summary>
/// The activation quantizer: k-bit odd levels of x clipped to [−1, 1] (k = 1: the sign, sign(0) = +1), with the
/// straight-through estimator whose gradient is cancelled where |x| &gt; 1 (<see cref="StraightThrough.HardTanh"/>).
/// The quantizer is chosen by name (<see cref="Registry.Quantizers"/>).
/// </summary>
public sealed class QuantizedActivation(int bits) : Layer
{
    private Tensor x = null!, y = null!, dx = null!;

    public override string Kind => Bits == 1 ? "ste_sign" : "ste_levels";
    public int Bits { get; } = bits is >= 1 and <= 8 ? bits : throw new ArgumentOutOfRangeException(nameof(bits), "activation bits are 1-8");

    public override LayerInput Output => new(OutputShape, Bits, false);

    protected override void OnBuild(Random rng)
    {
        y = Buffer(Input.Shape);
        dx = Buffer(Input.Shape);
    }

    public override Tensor Forward(Tensor input, int batch, bool training, long step)
    {
        x = input;
        Backend.Quantize(x, y, batch * Input.Shape.Size, Bits);
        return y;
    }

    public override Tensor? Backward(Tensor dy, int batch)
    {
        // The stored level v is L times the paper's activation v / L: d(v)/dx = L inside [−1, 1].
        Backend.QuantizeBackward(x, dy, dx, batch * Input.Shape.Size, Levels.Max(Bits), StraightThrough.HardTanh);
        return dx;
    }

    public override string Describe() => $"{Kind} {Input.Shape}, {Bits}-bit";
}
