using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;

namespace Qnn.Trainer.LowPrecision;

/// <summary>
/// Shift-based batch normalization (BNN paper, Algorithm 3; <c>--bn shift</c>): the exact batch norm's statistics,
/// but the variance is approximated by mean(C · AP2(C)) and both the normalization and the scale are powers of two
/// (AP2), so the forward has no multiplication that is not a shift. The backward is the exact batch norm's with the
/// power-of-two factors in place of γ and 1/σ (the straight-through estimator for AP2). <see cref="SharedScale"/>
/// is the score head, as in <see cref="BatchNorm"/>.
/// </summary>
/// <remarks>
/// The paper's Algorithm 3 ends with y = AP2(γ) ≪≫ x̂ and no β; the shift β is kept here, as every batch norm of
/// the paper's networks has one (and the export folds it into thresholds like any other).
/// </remarks>
public sealed class ShiftBatchNorm(bool sharedScale = false, float momentum = 0.1f, float epsilon = 1e-4f)
    : BatchNorm(sharedScale, momentum, epsilon)
{
    private Tensor gammaPow2 = null!;
    private ILowPrecisionBackend kernels = null!;

    protected override string Name => "shift_batch_norm";

    protected override void OnBuild(Random rng)
    {
        base.OnBuild(rng);
        kernels = LowPrecisionKernels.Of(Backend);
        gammaPow2 = Backend.Allocate(ScaleCount);
    }

    /// <summary>Algorithm 3: the statistics and the normalization in powers of two; keeps AP2(γ)·AP2(1/σ) for the backward.</summary>
    protected override void TrainForward(Tensor input, int rows, Tensor output) =>
        kernels.ShiftBatchNormTrain(input, rows, Channels, Gamma.Value, Beta.Value, output, BatchMean, BatchInvStd, gammaPow2,
            RunningMean, RunningVar, Momentum, Epsilon, SharedScale);

    /// <summary>The power-of-two factors stand in for γ and 1/σ (the straight-through estimator for AP2).</summary>
    protected override Tensor BackwardScale => gammaPow2;

    /// <summary>
    /// The inference map y_c = fma(x, scale_c, shift_c) with scale = AP2(γ) · AP2(1/√(runningVar + ε)) (a power
    /// of two) and shift = β − runningMean · scale, the form of <see cref="BatchNorm.InferenceAffine"/>, so the
    /// export folds it the same way.
    /// </summary>
    protected override (float[] Scale, float[] Shift) InferenceAffineOf(float[] gamma, float[] beta, float[] mean, float[] variance) =>
        Affine(gamma, beta, mean, variance, Epsilon, SharedScale);

    /// <summary>
    /// The inference affine map of shift-based batch-norm parameters: the exact batch norm's map
    /// (<see cref="BatchNorm.Affine"/>) of γ' = AP2(γ) · AP2(1/√(var + ε)) with variance 1 and ε = 0, whose scale is
    /// γ' exactly.
    /// </summary>
    public static new (float[] Scale, float[] Shift) Affine(float[] gamma, float[] beta, float[] mean, float[] variance, float epsilon, bool shared)
    {
        var pow2 = new float[gamma.Length];
        for (int i = 0; i < pow2.Length; i++) pow2[i] = PowerOfTwo.Approximate(gamma[i]) * ShiftRules.InverseStd(variance[i], epsilon);
        return BatchNorm.Affine(pow2, beta, mean, Enumerable.Repeat(1f, gamma.Length).ToArray(), 0f, shared);
    }

    private BatchNorm? exact;

    /// <summary>
    /// An exact <see cref="BatchNorm"/> whose inference map is this one's, for the export: γ' = the power-of-two
    /// scale, running variance 1 and ε = 0 (so γ' / √(1 + 0) is γ' exactly), β and the running mean copied. The
    /// same object every time (refreshed from the current parameters), so that it can key a lookup.
    /// </summary>
    public BatchNorm ToExact()
    {
        var (a, _) = InferenceAffine();
        var bn = exact;
        if (bn is null)
        {
            bn = exact = new BatchNorm(SharedScale, Momentum, epsilon: 0f);
            bn.Build(Backend, Input, MaxBatch, new Random(0));
        }
        Backend.Upload(a.AsSpan(0, ScaleCount), bn.Gamma.Value);
        Backend.Copy(Beta.Value, bn.Beta.Value, Channels);
        Backend.Copy(RunningMean, bn.RunningMean, Channels);
        Backend.Fill(bn.RunningVar, 1f);
        return bn;
    }
}
