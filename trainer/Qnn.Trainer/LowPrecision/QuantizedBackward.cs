using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;
using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.LowPrecision;

/// <summary>How a <see cref="QuantizedBackward"/> dense layer computes its products.</summary>
public enum ProductPath
{
    /// <summary>Float GEMMs over the integer levels (exact integers in float32), then the scale.</summary>
    Float,

    /// <summary>
    /// XOR-popcount over bit-planes (<see cref="BitwiseGemm"/>) for every product whose operands are levels: the
    /// forward, the input gradient and the weight gradient of a dense layer whose input is an activation (binary or
    /// k-bit); CPU backend only (elsewhere, and for the 8-bit image input, it is <see cref="Float"/>).
    /// </summary>
    Bitwise,
}

/// <summary>
/// A product layer (<see cref="BinaryDense"/> or <see cref="BinaryConv2D"/>) trained with k-bit gradients
/// (<see cref="GradientQuantization"/>): the gradient of its output is quantized before both backward products
/// (the input gradient and the weight gradient), once: the weight gradient is the product of the quantized
/// gradient with the layer's low-precision input, as in the QNN paper, and goes to the optimizer as it is (it was
/// quantized a second time before 2026-12-02). The forward is the wrapped layer's, so the trained network and its export do not change: at
/// inference this layer is <see cref="Inner"/>.
/// </summary>
/// <remarks>
/// For a dense layer the products run on the levels v (integers) and are scaled once: dW = s·(vᵀ·x) and
/// dX = s·(v·W_b); with <see cref="ProductPath.Bitwise"/> on the CPU, the integer products (and the forward) are
/// XOR-popcounts over bit-planes, and the updates are bit for bit those of <see cref="ProductPath.Float"/>. A
/// convolution gets the scaled gradient s·v and runs its own backward.
/// </remarks>
public sealed class QuantizedBackward(Layer inner, int gradientBits, ProductPath path = ProductPath.Bitwise) : Layer
{
    private Tensor x = null!, levels = null!, quantized = null!, scale = null!, y = null!, dx = null!;
    private ILowPrecisionBackend kernels = null!;

    public override Shape OutputFor(Shape input) => Inner.OutputFor(input);
    private long step;
    private bool bitwise;

    public Layer Inner { get; } = inner is BinaryDense or BinaryConv2D
        ? inner
        : throw new ArgumentException($"k-bit gradients wrap a binary_dense or binary_conv2d layer, not {inner.Kind}");

    public int GradientBits { get; } = gradientBits is >= 2 and <= 16
        ? gradientBits
        : throw new ArgumentOutOfRangeException(nameof(gradientBits), "gradient bits are 2-16 (32 = float gradients, no wrapper)");

    public ProductPath Path { get; } = path;

    /// <summary>Set by <see cref="LowPrecisionTraining"/>: the run's seed and this layer's index, for the roundings.</summary>
    public int RunSeed { get; set; }
    public int Index { get; set; }

    public override string Kind => "quantized_backward";
    public override LayerInput Output => Inner.Output;
    public override IReadOnlyList<Parameter> Parameters => Inner.Parameters;
    public override IReadOnlyList<Tensor> State => Inner.State;

    /// <summary>True when this layer's products are the bitwise ones (a dense layer on the CPU backend).</summary>
    public bool IsBitwise => bitwise;

    protected override void OnBuild(Random rng)
    {
        Inner.Build(Backend, Input, MaxBatch, rng);
        OutputShape = Inner.OutputShape;
        kernels = LowPrecisionKernels.Of(Backend);
        levels = Buffer(OutputShape);
        quantized = Buffer(OutputShape);
        scale = Backend.Allocate(1);
        if (Inner is BinaryDense)
        {
            y = Buffer(OutputShape);
            dx = Buffer(Input.Shape);
            // Binary (or k-bit) activations in: the paper's first layer, whose input is the 8-bit image, keeps the
            // float path, where 8 input planes times k gradient planes would cost more popcounts than multiply-adds.
            // Odd-level weights only: the weight planes are SPEC 1.1's (log and stochastic weights keep the float path).
            bitwise = Path == ProductPath.Bitwise && Backend is CpuBackend && Input.Bits is >= 1 and <= 4 && !Input.LinearGrid
                && ((BinaryDense)Inner).Weights.Quantizer == WeightQuantizer.Odd;
        }
    }

    public override Tensor Forward(Tensor input, int batch, bool training, long step)
    {
        x = input;
        this.step = step;
        if (bitwise && Inner is BinaryDense dense && LevelInput(training))
        {
            dense.Weights.Quantize(Backend);
            int k = Input.Shape.Size;
            var product = Planes(Role.Input, Data(input), batch, k, Input.Bits, false);
            var weights = Planes(Role.Weights, Data(dense.Weights.Quantized), dense.Units, k, dense.WeightBits, false);
            BitwiseGemm.Multiply(product, weights, Data(y));
            return y;
        }
        return Inner.Forward(input, batch, training, step);
    }

    public override Tensor? Backward(Tensor dy, int batch)
    {
        kernels.QuantizeGradient(dy, batch * OutputShape.Size, GradientBits, GradientQuantization.Seed(RunSeed, Index, step, 0), levels, scale, quantized);
        Tensor? result;
        if (Inner is BinaryDense dense) result = DenseBackward(dense, batch);
        else
        {
            Inner.NeedsInputGradient = NeedsInputGradient;
            result = Inner.Backward(quantized, batch);
        }
        return result;
    }

    /// <summary>dW = s·(vᵀ·x) and dX = s·(v·W_b) from the integer products over the levels v.</summary>
    private Tensor? DenseBackward(BinaryDense dense, int batch)
    {
        int k = Input.Shape.Size, units = dense.Units;
        var w = dense.Weights;
        var s = new float[1];
        Backend.Download(scale, s);
        if (bitwise && LevelInput(training: true))
        {
            var v = Planes(Role.LevelsByUnit, Data(levels), units, batch, GradientBits, true);   // vᵀ: a row per unit, along the batch
            var xt = Planes(Role.InputByFeature, Data(x), k, batch, Input.Bits, true);         // xᵀ: a row per input, along the batch
            BitwiseGemm.Multiply(v, xt, Data(w.QuantizedGradient));
        }
        else Backend.Gemm(levels, true, x, false, w.QuantizedGradient, units, k, batch);
        // QuantizeBackward with the identity estimator is exactly dx = scale · dy: here the one multiplication by s.
        Backend.QuantizeBackward(w.QuantizedGradient, w.QuantizedGradient, w.QuantizedGradient, units * k, s[0], StraightThrough.Identity);
        w.PassGradient(Backend);
        if (!NeedsInputGradient) return null;
        if (bitwise)
        {
            var v = Planes(Role.Levels, Data(levels), batch, units, GradientBits, false);          // v: a row per sample, along the units
            var wt = Planes(Role.WeightsByFeature, Data(w.Quantized), k, units, dense.WeightBits, true); // W_bᵀ: a row per input, along the units
            BitwiseGemm.Multiply(v, wt, Data(dx));
        }
        else Backend.Gemm(levels, false, w.Quantized, false, dx, batch, k, units);
        Backend.QuantizeBackward(dx, dx, dx, batch * k, s[0], StraightThrough.Identity);
        return dx;
    }

    /// <summary>The input holds exact levels (not the scaled values of a dropout in training, nor real values).</summary>
    private bool LevelInput(bool training) => Input.Bits > 0 && !(training && Input.Dropped);

    /// <summary>The operands packed to bit-planes, one buffer each, reused from step to step.</summary>
    private enum Role { Input, Weights, LevelsByUnit, InputByFeature, Levels, WeightsByFeature }

    private readonly LevelPlanes?[] planes = new LevelPlanes?[6];

    /// <summary>The buffer of <paramref name="role"/> (remade when the shape changes, e.g. a last smaller batch), packed from <paramref name="source"/>.</summary>
    private LevelPlanes Planes(Role role, float[] source, int rows, int k, int bits, bool transposed)
    {
        ref var p = ref planes[(int)role];
        if (p is null || p.Rows != rows || p.K != k || p.Planes != bits) p = new LevelPlanes(rows, k, bits);
        p.Pack(source, transposed);
        return p;
    }

    private static float[] Data(Tensor t) => ((CpuTensor)t).Data;

    public override string Describe() =>
        $"{Inner.Describe()}, {GradientBits}-bit gradients{(bitwise ? ", bitwise products" : "")}";
}
