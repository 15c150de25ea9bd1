using Qnn.Trainer.Backends;

namespace Qnn.Trainer.LowPrecision;

/// <summary>
/// The kernels of low-precision training that <see cref="IBackend"/> does not have: k-bit gradient quantization
/// (QNN paper) and the shift-based batch norm and AdaMax of the BNN paper. Written once per backend like IBackend's
/// kernels; <see cref="LowPrecisionKernels.Of"/> finds them for a backend.
/// </summary>
public interface ILowPrecisionBackend
{
    /// <summary>
    /// <see cref="GradientQuantization"/> of the first <paramref name="count"/> elements of
    /// <paramref name="gradient"/>, split into <paramref name="groups"/> equal contiguous groups (1: one scale for the
    /// tensor; the batch size: one per sample), each with its own max-norm: <paramref name="scale"/>[g] = max|g| / L
    /// over group g, <paramref name="levels"/> = the odd levels v, <paramref name="quantized"/> = scale · v.
    /// <paramref name="quantized"/> may be <paramref name="gradient"/>. The rounding of element i draws
    /// u(seed, i) whatever the grouping.
    /// </summary>
    void QuantizeGradient(Tensor gradient, int count, int bits, ulong seed, Tensor levels, Tensor scale, Tensor quantized, int groups = 1);

    /// <summary>
    /// c[i·rowsB + j] = Σ_p A[i, p] · B[j, p] over odd levels of <paramref name="bitsA"/> and <paramref name="bitsB"/>
    /// bits (A[i, p] = a[i·k + p], or a[p·rowsA + i] when <paramref name="transposedA"/>; B likewise), by XOR-popcount
    /// over ±1 bit-planes as <see cref="BitwiseGemm"/>: exact integers, the bitwise path of <see cref="QuantizedBackward"/>.
    /// </summary>
    void LevelProduct(Tensor a, int rowsA, int bitsA, bool transposedA, Tensor b, int rowsB, int bitsB, bool transposedB, int k, Tensor c);

    /// <summary>t[r·cols + c] = t[r·cols + c] · scales[r] for r &lt; <paramref name="rows"/>: a per-sample scale after an integer product.</summary>
    void ScaleRows(Tensor t, int rows, int cols, Tensor scales);

    /// <summary>
    /// The weight gradient of a product layer under per-sample scales, in one fixed order: with I_n the integer
    /// product of sample n over its <paramref name="positions"/> rows (1 for a dense layer, OutH·OutW for a conv),
    /// I_n[u, f] = Σ_p levels[(n·P + p)·units + u] · x[(n·P + p)·k + f] (exact while it stays below 2^24),
    /// dW[u·k + f] = Σ_{n = 0 … batch−1} scales[n] · I_n[u, f], each term one rounding, added in sample order. Every
    /// backend and both product paths compute exactly these operations, so the bits agree.
    /// </summary>
    void SampleWeightGradient(Tensor levels, Tensor scales, Tensor x, Tensor gradient, int batch, int positions, int units, int k);

    /// <summary>
    /// Shift-based batch norm, training mode (BNN paper, Algorithm 3), over the rows of a rows × channels matrix:
    /// μ = mean(x), C = x − μ, σ² = mean(C · AP2(C)), s = AP2(1 / √(σ² + ε)), y = AP2(γ) · (C · s) + β: every
    /// product is with a power of two (a shift). Writes μ to <paramref name="mean"/>, s to <paramref name="invStd"/>
    /// and AP2(γ) to <paramref name="gammaPow2"/>, so that the exact batch norm's backward
    /// (<see cref="IBackend.BatchNormBackward"/> with gamma = AP2(γ) and invStd = s) is the straight-through
    /// backward of this forward; the running statistics blend as <see cref="IBackend.BatchNormTrain"/>'s.
    /// </summary>
    void ShiftBatchNormTrain(Tensor x, int rows, int channels, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor invStd,
        Tensor gammaPow2, Tensor runningMean, Tensor runningVar, float momentum, float epsilon, bool sharedScale);

    /// <summary>
    /// Shift-based AdaMax (BNN paper, Algorithm 4): m = m + (g − m)·(1 − β1), u = max(u − u·(1 − β2), |g|),
    /// p = clip(p − step · m · AP2(1/u)) with (1 − β1), (1 − β2) and step powers of two; see <see cref="AdaMaxShift"/>.
    /// </summary>
    void AdaMaxShiftStep(Tensor parameter, Tensor gradient, Tensor m, Tensor u, int count, float step, float oneMinusBeta1,
        float oneMinusBeta2, float clipLow, float clipHigh);
}

/// <summary>Finds a backend's low-precision kernels.</summary>
public static class LowPrecisionKernels
{
    /// <summary>The backend itself when it implements them (ILGPU), the CPU kernels for the CPU backend.</summary>
    public static ILowPrecisionBackend Of(IBackend backend) => backend switch
    {
        ILowPrecisionBackend own => own,
        CpuBackend => CpuLowPrecision.Instance,
        _ => throw new NotSupportedException($"the {backend.Name} backend has no low-precision training kernels"),
    };
}
