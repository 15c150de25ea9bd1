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
    /// XOR-popcount over bit-planes for every product whose operands are levels: the forward, the input gradient
    /// and the weight gradient of a dense layer, and the two backward products of a convolution, whose input is an
    /// activation (binary or k-bit, odd grid): <see cref="BitwiseGemm"/> on the CPU,
    /// <see cref="ILowPrecisionBackend.LevelProduct"/> on ILGPU (for the 8-bit image input it is <see cref="Float"/>).
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
/// The products run on the levels v (integers) and are scaled once: dW = s·(vᵀ·x) and dX = s·(v·W_b) (a
/// convolution over its im2col rows, its input image aside); with <see cref="ProductPath.Bitwise"/> the integer
/// products (and a dense forward) are XOR-popcounts over bit-planes, and the updates are bit for bit those of
/// <see cref="ProductPath.Float"/>. With per-sample scales (<see cref="GradientScale.Sample"/>) each sample's rows
/// are scaled after the integer product, and the weight gradient is the scaled sum of per-sample integer products in
/// sample order.
/// </remarks>
public sealed class QuantizedBackward(Layer inner, int gradientBits, ProductPath path = ProductPath.Bitwise,
    GradientScale scaleMode = GradientScale.Tensor) : Layer
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

    /// <summary>One max-norm for the tensor, or one per sample (DoReFa-Net's eq. 12).</summary>
    public GradientScale ScaleMode { get; } = scaleMode;

    /// <summary>Set by <see cref="LowPrecisionTraining"/>: the run's seed and this layer's index, for the roundings.</summary>
    public int RunSeed { get; set; }
    public int Index { get; set; }

    public override string Kind => "quantized_backward";
    public override LayerInput Output => Inner.Output;
    public override IReadOnlyList<Parameter> Parameters => Inner.Parameters;
    public override IReadOnlyList<Tensor> State => Inner.State;

    /// <summary>True when this layer's products are the bitwise ones (a dense or conv layer with a ≤ 4-bit odd-level input, on the CPU or ILGPU backend).</summary>
    public bool IsBitwise => bitwise;

    protected override void OnBuild(Random rng)
    {
        Inner.Build(Backend, Input, MaxBatch, rng);
        OutputShape = Inner.OutputShape;
        kernels = LowPrecisionKernels.Of(Backend);
        levels = Buffer(OutputShape);
        quantized = Buffer(OutputShape);
        scale = Backend.Allocate(ScaleMode == GradientScale.Sample ? MaxBatch : 1);
        // Odd-level weights only: the weight planes are SPEC 1.1's (log and stochastic weights keep the float path).
        if (Inner is BinaryConv2D conv)
            bitwise = Path == ProductPath.Bitwise && Input.Bits is >= 1 and <= 4 && !Input.LinearGrid
                && conv.Weights.Quantizer == WeightQuantizer.Odd;
        if (Inner is BinaryDense dense)
        {
            y = Buffer(OutputShape);
            dx = Buffer(Input.Shape);
            // Binary (or k-bit) activations in: the paper's first layer, whose input is the 8-bit image, keeps the
            // float path, where 8 input planes times k gradient planes would cost more popcounts than multiply-adds.
            bitwise = Path == ProductPath.Bitwise && Input.Bits is >= 1 and <= 4 && !Input.LinearGrid
                && dense.Weights.Quantizer == WeightQuantizer.Odd;
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
            Product(Role.Input, input, batch, Input.Bits, false, Role.Weights, dense.Weights.Quantized, dense.Units, dense.WeightBits, false, k, y);
            return y;
        }
        return Inner.Forward(input, batch, training, step);
    }

    public override Tensor? Backward(Tensor dy, int batch)
    {
        int groups = ScaleMode == GradientScale.Sample ? batch : 1;
        kernels.QuantizeGradient(dy, batch * OutputShape.Size, GradientBits, GradientQuantization.Seed(RunSeed, Index, step, 0), levels, scale, quantized, groups);
        if (Inner is BinaryDense dense) return DenseBackward(dense, batch);
        var conv = (BinaryConv2D)Inner;
        if (LevelInput(training: true)) return ConvBackward(conv, batch);
        // The image (or a dropped input) is not levels: the convolution's own backward on the scaled gradient.
        Inner.NeedsInputGradient = NeedsInputGradient;
        return Inner.Backward(quantized, batch);
    }

    /// <summary>
    /// dW = s·(vᵀ·x) and dX = s·(v·W_b) from the integer products over the levels v (one scale s for the tensor);
    /// with per-sample scales, dX's row n is s_n·(v_n·W_b) (the integer product, then its row's scale) and
    /// dW = Σ_n s_n·(v_nᵀ·x_n) in sample order (<see cref="ILowPrecisionBackend.SampleWeightGradient"/>).
    /// </summary>
    private Tensor? DenseBackward(BinaryDense dense, int batch)
    {
        int k = Input.Shape.Size, units = dense.Units;
        var w = dense.Weights;
        if (ScaleMode == GradientScale.Sample) return SampleDenseBackward(dense, batch, k, units);
        var s = new float[1];
        Backend.Download(scale, s);
        if (bitwise && LevelInput(training: true))
        {
            // vᵀ: a row per unit, along the batch; xᵀ: a row per input, along the batch
            Product(Role.LevelsByUnit, levels, units, GradientBits, true, Role.InputByFeature, x, k, Input.Bits, true, batch, w.QuantizedGradient);
        }
        else Backend.Gemm(levels, true, x, false, w.QuantizedGradient, units, k, batch);
        // QuantizeBackward with the identity estimator is exactly dx = scale · dy: here the one multiplication by s.
        Backend.QuantizeBackward(w.QuantizedGradient, w.QuantizedGradient, w.QuantizedGradient, units * k, s[0], StraightThrough.Identity);
        w.PassGradient(Backend);
        if (!NeedsInputGradient) return null;
        if (bitwise)
        {
            // v: a row per sample, along the units; W_bᵀ: a row per input, along the units
            Product(Role.Levels, levels, batch, GradientBits, false, Role.WeightsByFeature, w.Quantized, k, dense.WeightBits, true, units, dx);
        }
        else Backend.Gemm(levels, false, w.Quantized, false, dx, batch, k, units);
        Backend.QuantizeBackward(dx, dx, dx, batch * k, s[0], StraightThrough.Identity);
        return dx;
    }

    /// <summary>
    /// The dense backward under per-sample scales. The input gradient is an integer product (bitwise or float) whose
    /// row n is then scaled by s_n, so both paths give the same bits. The weight gradient sums over the batch, where
    /// each sample has its own real scale, so it is no single integer product: each term v_n[u]·x_n[f] is an exact
    /// integer (a dense layer has one position per sample, so nothing is left to popcount), scaled by s_n and added
    /// in sample order, the same code on both paths.
    /// </summary>
    private Tensor? SampleDenseBackward(BinaryDense dense, int batch, int k, int units)
    {
        var w = dense.Weights;
        kernels.SampleWeightGradient(levels, scale, x, w.QuantizedGradient, batch, 1, units, k);
        w.PassGradient(Backend);
        if (!NeedsInputGradient) return null;
        if (bitwise)
        {
            Product(Role.Levels, levels, batch, GradientBits, false, Role.WeightsByFeature, w.Quantized, k, dense.WeightBits, true, units, dx);
        }
        else Backend.Gemm(levels, false, w.Quantized, false, dx, batch, k, units);
        kernels.ScaleRows(dx, batch, k, scale);
        return dx;
    }

    /// <summary>
    /// The backward of a convolution whose input is levels, as the dense one over the im2col rows
    /// (rows = batch · OutH · OutW): dW from the integer product vᵀ·cols, dcols = v·W_b, col2im (a sum of integers,
    /// exact), then the scale: once for the tensor, or s_n on sample n's input gradient and
    /// dW = Σ_n s_n·(v_nᵀ·cols_n) in sample order. On the bitwise path every integer product is XOR-popcounts over
    /// the planes of the im2col of the ±1 input planes (its padding is the lowest level, an odd level as well).
    /// The integer products are exact in float32 while |Σ| &lt; 2^24 (batch · positions · L_v · L_x for the tensor's
    /// weight gradient); both paths give the same bits below that bound.
    /// </summary>
    private Tensor? ConvBackward(BinaryConv2D conv, int batch)
    {
        var g = conv.Geometry;
        int positions = g.OutH * g.OutW, rows = batch * positions, patch = g.Patch, filters = conv.Filters;
        var w = conv.Weights;
        Tensor cols = conv.Columns, dcols = conv.ColumnGradient, dxs = conv.InputGradient;
        bool sample = ScaleMode == GradientScale.Sample;
        if (sample && bitwise && Backend is CpuBackend)
        {
            // I_n = v_nᵀ·cols_n by popcounts over each sample's positions, then the shared scaled sum.
            float[] v = Data(levels), c = Data(cols);
            int perV = positions * filters, perC = positions * patch;
            if (perSample is null || perSample.Length < batch * filters * patch) perSample = new float[batch * filters * patch];
            var product = new float[filters * patch];
            for (int n = 0; n < batch; n++)
            {
                var vt = Planes(Role.LevelsByUnit, v, filters, positions, GradientBits, true, n * perV);
                var ct = Planes(Role.InputByFeature, c, patch, positions, Input.Bits, true, n * perC);
                BitwiseGemm.Multiply(vt, ct, product);
                product.CopyTo(perSample, n * filters * patch);
            }
            CpuLowPrecision.SumScaled(perSample, Data(scale), Data(w.QuantizedGradient), batch, filters, patch);
        }
        else if (sample) kernels.SampleWeightGradient(levels, scale, cols, w.QuantizedGradient, batch, positions, filters, patch);
        else
        {
            if (bitwise)
            {
                Product(Role.LevelsByUnit, levels, filters, GradientBits, true, Role.InputByFeature, cols, patch, Input.Bits, true, rows, w.QuantizedGradient);
            }
            else Backend.Gemm(levels, true, cols, false, w.QuantizedGradient, filters, patch, rows);
            Backend.QuantizeBackward(w.QuantizedGradient, w.QuantizedGradient, w.QuantizedGradient, filters * patch, TensorScale(), StraightThrough.Identity);
        }
        w.PassGradient(Backend);
        if (!NeedsInputGradient) return null;
        if (bitwise)
        {
            Product(Role.Levels, levels, rows, GradientBits, false, Role.WeightsByFeature, w.Quantized, patch, conv.WeightBits, true, filters, dcols);
        }
        else Backend.Gemm(levels, false, w.Quantized, false, dcols, rows, patch, filters);
        Backend.Col2Im(dcols, g, batch, dxs);
        if (sample) kernels.ScaleRows(dxs, batch, Input.Shape.Size, scale);
        else Backend.QuantizeBackward(dxs, dxs, dxs, batch * Input.Shape.Size, TensorScale(), StraightThrough.Identity);
        return dxs;
    }

    private float[]? perSample;

    /// <summary>The one scale of <see cref="GradientScale.Tensor"/>, downloaded.</summary>
    private float TensorScale()
    {
        var s = new float[1];
        Backend.Download(scale, s);
        return s[0];
    }

    /// <summary>The input holds exact levels (not the scaled values of a dropout in training, nor real values).</summary>
    private bool LevelInput(bool training) => Input.Bits > 0 && !(training && Input.Dropped);

    /// <summary>The operands packed to bit-planes, one buffer each, reused from step to step.</summary>
    private enum Role { Input, Weights, LevelsByUnit, InputByFeature, Levels, WeightsByFeature }

    private readonly LevelPlanes?[] planes = new LevelPlanes?[6];

    /// <summary>
    /// c = A·Bᵀ by XOR-popcount over bit-planes, A rowsA × k and B rowsB × k odd levels (stored k × rows when
    /// transposed): on the CPU through this layer's plane buffers and <see cref="BitwiseGemm"/>, elsewhere the
    /// backend's <see cref="ILowPrecisionBackend.LevelProduct"/>.
    /// </summary>
    private void Product(Role roleA, Tensor a, int rowsA, int bitsA, bool transposedA, Role roleB, Tensor b, int rowsB, int bitsB, bool transposedB, int k, Tensor c)
    {
        if (Backend is CpuBackend)
            BitwiseGemm.Multiply(Planes(roleA, Data(a), rowsA, k, bitsA, transposedA), Planes(roleB, Data(b), rowsB, k, bitsB, transposedB), Data(c));
        else kernels.LevelProduct(a, rowsA, bitsA, transposedA, b, rowsB, bitsB, transposedB, k, c);
    }

    /// <summary>The buffer of <paramref name="role"/> (remade when the shape changes, e.g. a last smaller batch), packed from <paramref name="source"/>.</summary>
    private LevelPlanes Planes(Role role, float[] source, int rows, int k, int bits, bool transposed, int offset = 0)
    {
        ref var p = ref planes[(int)role];
        if (p is null || p.Rows != rows || p.K != k || p.Planes != bits) p = new LevelPlanes(rows, k, bits);
        p.Pack(source, transposed, offset);
        return p;
    }

    private static float[] Data(Tensor t) => ((CpuTensor)t).Data;

    public override string Describe() =>
        $"{Inner.Describe()}, {GradientBits}-bit gradients{(ScaleMode == GradientScale.Sample ? " (per-sample scale)" : "")}{(bitwise ? ", bitwise products" : "")}";
}
