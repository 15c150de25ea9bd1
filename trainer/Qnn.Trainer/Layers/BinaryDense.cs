using Qnn.Trainer.Backends;
using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.Layers;

/// <summary>
/// A fully connected layer with binary (or m-bit) weights and no bias (batch norm follows). It reads an H×W×C
/// input in place (NHWC order = the weight order of format/SPEC.md 1.3 with KH = H, KW = W).
/// </summary>
public sealed class BinaryDense(int units, int weightBits = 1, WeightQuantizer weightQuantizer = WeightQuantizer.Odd) : Layer
{
    private Tensor x = null!, y = null!, dx = null!;
    private bool signInput;

    public override string Kind => "binary_dense";
    public int Units { get; } = units;
    public int WeightBits { get; } = weightBits;
    public WeightQuantizer WeightQuantizer { get; } = weightQuantizer;
    public LatentWeights Weights { get; private set; } = null!;

    public override Shape OutputFor(Shape input) => new(1, 1, Units);

    protected override void OnBuild(Random rng)
    {
        int k = Input.Shape.Size;
        Weights = new LatentWeights(Backend, "dense.w", Units, k, WeightBits, k, Units, rng, WeightQuantizer);
        OutputShape = OutputFor(Input.Shape);
        y = Buffer(OutputShape);
        dx = Buffer(Input.Shape);
        // Both operands ±1 (not while a dropout scales the input): the product is an XNOR-popcount GEMM.
        signInput = Input.Bits == 1 && !Input.LinearGrid && WeightBits == 1 && WeightQuantizer != WeightQuantizer.Log;
    }

    public override Tensor Forward(Tensor input, int batch, bool training, long step)
    {
        x = input;
        Weights.Quantize(Backend, training, step);
        int k = Input.Shape.Size;
        if (signInput && !(training && Input.Dropped)) Backend.SignGemm(x, Weights.Quantized, y, batch, Units, k);
        else Backend.Gemm(x, false, Weights.Quantized, true, y, batch, Units, k);
        return y;
    }

    public override Tensor? Backward(Tensor dy, int batch)
    {
        int k = Input.Shape.Size;
        Backend.Gemm(dy, true, x, false, Weights.QuantizedGradient, Units, k, batch);
        Weights.PassGradient(Backend);
        if (!NeedsInputGradient) return null;
        Backend.Gemm(dy, false, Weights.Quantized, false, dx, batch, k, Units);
        return dx;
    }

    public override IReadOnlyList<Parameter> Parameters => [Weights.Parameter];

    public override string Describe() => $"binary_dense {Input.Shape} -> {Units}, {WeightBits}-bit {WeightQuantizer.ToString().ToLowerInvariant()} weights";
}
