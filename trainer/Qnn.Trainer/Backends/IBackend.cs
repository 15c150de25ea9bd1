using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.Backends;

/// <summary>
/// Everything the trainer computes, as a small set of kernels over <see cref="Tensor"/>s that live on one device.
/// Layers, losses, optimizers and the training loop are written once against this interface; a backend only
/// supplies storage and the kernels (the CPU backend is the default, an ILGPU backend can add the same kernels).
/// </summary>
/// <remarks>
/// Conventions every kernel follows:
/// <list type="bullet">
/// <item>Tensors are float32, row-major; activations are NHWC (channels innermost, as format/SPEC.md 1.2), a dense
/// activation is N × C. Shapes are passed as ints so that a buffer allocated for the largest batch serves a smaller
/// last batch.</item>
/// <item>Quantized values are stored as their odd integer levels v ∈ {−L, …, −1, +1, …, L}, L = 2^b − 1 (SPEC 1.1),
/// not as v / L: every product of levels is then an exact integer in float32 (sums stay below 2^24), so the
/// accumulators the trainer sees are the runtime's accumulators. Batch norm after every product makes the scale
/// immaterial to the forward pass; the quantizers' backward multiplies by L so gradients are the paper's.</item>
/// <item>Results are bit-reproducible: every reduction runs in a fixed order that does not depend on the number of
/// threads or their scheduling.</item>
/// </list>
/// </remarks>
public interface IBackend : IDisposable
{
    /// <summary>Short name ("cpu", "ilgpu-cuda", ...).</summary>
    string Name { get; }

    // ---- storage ----

    /// <summary>A zero-filled tensor of the given shape.</summary>
    Tensor Allocate(params int[] shape);

    void Upload(ReadOnlySpan<float> source, Tensor destination);

    void Download(Tensor source, Span<float> destination);

    /// <summary>Copies the first <paramref name="count"/> elements.</summary>
    void Copy(Tensor source, Tensor destination, int count);

    void Fill(Tensor tensor, float value);

    // ---- products ----

    /// <summary>
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, row-major; op(A) is m×k (A stored k×m when transposed), op(B) is
    /// k×n (B stored n×k when transposed). beta = 0 ignores what C held.
    /// </summary>
    void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, int m, int n, int k, float alpha = 1f, float beta = 0f);

    /// <summary>
    /// C[m×n] = A[m×k] · B[n×k]ᵀ where A and B hold only ±1 (the hidden binary dense forward). Exact; the CPU
    /// backend uses XNOR and popcount over packed bits (sign(0) = +1 as everywhere).
    /// </summary>
    void SignGemm(Tensor a, Tensor b, Tensor c, int m, int n, int k);

    // ---- quantizers (format/SPEC.md 1.1 and 1.6) ----

    /// <summary>
    /// y = odd level v of x for b bits: q = #{ l : x ≥ (2l − 1 − L) / L } (ties go up; b = 1 is sign with
    /// sign(0) = +1), v = 2q − L. The single definition is <see cref="Levels.Quantize"/>.
    /// </summary>
    void Quantize(Tensor x, Tensor y, int count, int bits);

    /// <summary>
    /// y = the training-time level of x under an activation quantizer, <see cref="ActivationQuantizers.Training"/> per
    /// element (odd: <see cref="Quantize"/>; linear: the grid with 0; stochastic: +1 with probability hard_sigmoid(x),
    /// drawn from (seed, element)).
    /// </summary>
    void QuantizeActivation(Tensor x, Tensor y, int count, int bits, ActivationQuantizer quantizer, ulong seed);

    /// <summary>
    /// y = the training-time value of latent weights x, <see cref="WeightQuantizers.Training"/> per element (log: ±2^e;
    /// stochastic: +1 with probability hard_sigmoid(x), drawn from (seed, element); odd: <see cref="Quantize"/>).
    /// </summary>
    void QuantizeWeights(Tensor x, Tensor y, int count, int bits, WeightQuantizer quantizer, ulong seed);

    /// <summary>
    /// The straight-through estimator's backward, <see cref="StraightThroughEstimator.Gradient"/> per element:
    /// dx = scale · dy, and 0 where |x| &gt; 1 for <see cref="StraightThrough.HardTanh"/>.
    /// </summary>
    void QuantizeBackward(Tensor x, Tensor dy, Tensor dx, int count, float scale, StraightThrough estimator);

    // ---- batch norm over the rows of an rows × channels matrix ----

    /// <summary>
    /// Training-mode batch norm: y = gamma · (x − mean) / sqrt(var + eps) + beta with the batch's statistics,
    /// which it writes to <paramref name="mean"/> and <paramref name="invStd"/> (for the backward) and blends into
    /// the running statistics (running = (1 − momentum) · running + momentum · batch; the running variance is the
    /// unbiased one). <paramref name="sharedScale"/>: one gamma and one variance for all channels (the last-layer
    /// head that folds into integer scores); the mean and beta stay per channel.
    /// </summary>
    void BatchNormTrain(Tensor x, int rows, int channels, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor invStd,
        Tensor runningMean, Tensor runningVar, float momentum, float epsilon, bool sharedScale);

    /// <summary>Backward of <see cref="BatchNormTrain"/>: writes dx and the parameter gradients (overwritten).</summary>
    void BatchNormBackward(Tensor x, Tensor dy, int rows, int channels, Tensor gamma, Tensor mean, Tensor invStd,
        Tensor dx, Tensor dGamma, Tensor dBeta, bool sharedScale);

    /// <summary>
    /// y = fma(x, scale_c, shift_c) per channel: inference batch norm with the affine map that
    /// <see cref="Layers.BatchNorm.InferenceAffine"/> computes (the export folds the very same floats).
    /// </summary>
    void ScaleShift(Tensor x, int rows, int channels, Tensor scale, Tensor shift, Tensor y);

    // ---- convolution and pooling (NHWC) ----

    /// <summary>
    /// Unfolds windows into rows: cols[(n·OH + oy)·OW + ox][(ky·KW + kx)·C + c] (the weight order of SPEC 1.3).
    /// Positions outside the input take <paramref name="padValue"/> (the lowest level, SPEC 1.4).
    /// </summary>
    void Im2Col(Tensor x, ConvGeometry g, int batch, float padValue, Tensor cols);

    /// <summary>Adjoint of <see cref="Im2Col"/>: dx = sum of every window's gradient (padding dropped).</summary>
    void Col2Im(Tensor cols, ConvGeometry g, int batch, Tensor dx);

    /// <summary>Max over pool windows (no padding) of an NHWC tensor.</summary>
    void MaxPool(Tensor x, PoolGeometry g, int batch, Tensor y);

    /// <summary>dx gets each window's dy at the first position (window order) that holds the window's maximum.</summary>
    void MaxPoolBackward(Tensor x, Tensor y, Tensor dy, PoolGeometry g, int batch, Tensor dx);

    // ---- regularization ----

    /// <summary>
    /// Inverted dropout with a counter-based mask: element i is kept when <see cref="DropoutMask.Keep"/>(seed, i, rate),
    /// so both backends and a resumed run draw the same mask. Kept values are scaled by 1 / (1 − rate).
    /// Called with dy/dx it is its own backward.
    /// </summary>
    void Dropout(Tensor x, Tensor y, int count, float rate, ulong seed);

    // ---- losses (rows = samples, columns = classes; labels hold class indices as floats) ----

    /// <summary>
    /// Per-sample loss and gradient of the mean loss over the batch (and, for the squared hinge, over classes as in
    /// the paper), <see cref="LossRule"/> per class. <paramref name="loss"/> is a rows-long vector.
    /// </summary>
    void LossForwardBackward(LossKind kind, Tensor scores, Tensor labels, int rows, int classes, Tensor loss, Tensor dScores);

    // ---- optimizers ----

    /// <summary>
    /// Adam, <see cref="AdamRule"/> per element, with stepSize = lr · sqrt(1 − b2^t) / (1 − b1^t) and p clipped to
    /// [clipLow, clipHigh] (the latent binary weights stay in [−1, 1]).
    /// </summary>
    void AdamStep(Tensor parameter, Tensor gradient, Tensor m, Tensor v, int count, float stepSize, float beta1, float beta2,
        float epsilon, float clipLow, float clipHigh);
}

/// <summary>The losses the backend computes.</summary>
public enum LossKind { SquaredHinge, SoftmaxCrossEntropy }

/// <summary>Shape of a 2-D convolution over an NHWC batch.</summary>
public readonly record struct ConvGeometry(int InH, int InW, int InC, int KernelH, int KernelW, int StrideH, int StrideW,
    int PadTop, int PadLeft, int OutH, int OutW)
{
    /// <summary>Columns of the unfolded matrix: KH · KW · C.</summary>
    public int Patch => KernelH * KernelW * InC;
}

/// <summary>Shape of a max-pool (no padding) over an NHWC batch.</summary>
public readonly record struct PoolGeometry(int InH, int InW, int C, int PoolH, int PoolW, int StrideH, int StrideW, int OutH, int OutW);
