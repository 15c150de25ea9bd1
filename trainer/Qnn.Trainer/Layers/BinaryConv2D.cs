using Qnn.Trainer.Backends;
using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.Layers;

/// <summary>
/// A 2-D convolution with binary (or m-bit) weights and no bias, as im2col and a GEMM. Padding takes the lowest
/// level of the input (−1 for a 1-bit input, the pixel 0 for the image), exactly as format/SPEC.md 1.4, so that the
/// exported model computes the same accumulators.
/// </summary>
public sealed class BinaryConv2D(int filters, int kernel, int stride = 1, int pad = 0, int weightBits = 1,
    WeightQuantizer weightQuantizer = WeightQuantizer.Odd) : Layer
{
    private Tensor x = null!, cols = null!, y = null!, dcols = null!, dx = null!;

    public override string Kind => "binary_conv2d";
    public int Filters { get; } = filters;
    public int KernelSize { get; } = kernel;
    public int Stride { get; } = stride;
    public int Pad { get; } = pad;
    public int WeightBits { get; } = weightBits;
    public WeightQuantizer WeightQuantizer { get; } = weightQuantizer;
    public LatentWeights Weights { get; private set; } = null!;
    public ConvGeometry Geometry { get; private set; }

    /// <summary>The value of a padding position: the lowest level of the input.</summary>
    public float PadValue => Input.LinearGrid ? LinearLevels.Stored(0, Input.Bits) : -Levels.Max(Input.Bits);

    public override Shape OutputFor(Shape s) =>
        new((s.H + 2 * Pad - KernelSize) / Stride + 1, (s.W + 2 * Pad - KernelSize) / Stride + 1, Filters);

    protected override void OnBuild(Random rng)
    {
        if (Input.Bits == 0 && Pad > 0) throw new ArgumentException("a padded binary_conv2d needs a quantized input (its padding is the lowest level)");
        var s = Input.Shape;
        OutputShape = OutputFor(s);
        int oh = OutputShape.H, ow = OutputShape.W;
        if (oh < 1 || ow < 1) throw new ArgumentException($"kernel {KernelSize} does not fit the {s} input");
        Geometry = new ConvGeometry(s.H, s.W, s.C, KernelSize, KernelSize, Stride, Stride, Pad, Pad, oh, ow);
        int patch = Geometry.Patch;
        Weights = new LatentWeights(Backend, "conv.w", Filters, patch, WeightBits, patch, Filters * KernelSize * KernelSize, rng, WeightQuantizer);
        cols = Backend.Allocate(MaxBatch * oh * ow, patch);
        dcols = Backend.Allocate(MaxBatch * oh * ow, patch);
        y = Buffer(OutputShape);
        dx = Buffer(s);
    }

    public override Tensor Forward(Tensor input, int batch, bool training, long step)
    {
        x = input;
        Weights.Quantize(Backend, training, step);
        Backend.Im2Col(x, Geometry, batch, PadValue, cols);
        int rows = batch * Geometry.OutH * Geometry.OutW;
        Backend.Gemm(cols, false, Weights.Quantized, true, y, rows, Filters, Geometry.Patch);
        return y;
    }

    public override Tensor? Backward(Tensor dy, int batch)
    {
        int rows = batch * Geometry.OutH * Geometry.OutW;
        Backend.Gemm(dy, true, cols, false, Weights.QuantizedGradient, Filters, Geometry.Patch, rows);
        Weights.PassGradient(Backend);
        if (!NeedsInputGradient) return null;
        Backend.Gemm(dy, false, Weights.Quantized, false, dcols, rows, Geometry.Patch, Filters);
        Backend.Col2Im(dcols, Geometry, batch, dx);
        return dx;
    }

    /// <summary>The im2col of the last forward's input (rows = batch · OutH · OutW, a patch each), for a backward done outside (k-bit gradients).</summary>
    public Tensor Columns => cols;

    /// <summary>The column-gradient buffer (same shape as <see cref="Columns"/>), free between a backward's GEMM and its col2im.</summary>
    public Tensor ColumnGradient => dcols;

    /// <summary>The input gradient buffer.</summary>
    public Tensor InputGradient => dx;

    public override IReadOnlyList<Parameter> Parameters => [Weights.Parameter];

    public override string Describe() =>
        $"binary_conv2d {Input.Shape} -> {OutputShape}, {Filters}x{KernelSize}x{KernelSize} stride {Stride} pad {Pad}, {WeightBits}-bit weights";
}
