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
public sealed class ShiftBatchNorm(bool sharedScale = false, float momentum = 0.1f, float epsilon = 1e-4f) : Layer
{
    private Tensor x = null!, y = null!, dx = null!, mean = null!, invStd = null!, gammaPow2 = null!, scale = null!, shift = null!;
    private ILowPrecisionBackend kernels = null!;

    public override string Kind => SharedScale ? "shift_batch_norm_shared" : "shift_batch_norm";
    public bool SharedScale { get; } = sharedScale;
    public float Momentum { get; } = momentum;
    public float Epsilon { get; } = epsilon;
    public Parameter Gamma { get; private set; } = null!;
    public Parameter Beta { get; private set; } = null!;
    public Tensor RunningMean { get; private set; } = null!;
    public Tensor RunningVar { get; private set; } = null!;

    private int Channels => Input.Shape.C;
    private int ScaleCount => SharedScale ? 1 : Channels;

    protected override void OnBuild(Random rng)
    {
        kernels = LowPrecisionKernels.Of(Backend);
        var gamma = Backend.Allocate(ScaleCount);
        Backend.Fill(gamma, 1f);
        Gamma = new Parameter("bn.gamma", gamma, Backend.Allocate(ScaleCount), 1f, float.NegativeInfinity, float.PositiveInfinity);
        Beta = new Parameter("bn.beta", Backend.Allocate(Channels), Backend.Allocate(Channels), 1f, float.NegativeInfinity, float.PositiveInfinity);
        RunningMean = Backend.Allocate(Channels);
        RunningVar = Backend.Allocate(ScaleCount);
        Backend.Fill(RunningVar, 1f);
        mean = Backend.Allocate(Channels);
        invStd = Backend.Allocate(ScaleCount);
        gammaPow2 = Backend.Allocate(ScaleCount);
        scale = Backend.Allocate(Channels);
        shift = Backend.Allocate(Channels);
        y = Buffer(Input.Shape);
        dx = Buffer(Input.Shape);
    }

    public override Tensor Forward(Tensor input, int batch, bool training, long step)
    {
        x = input;
        int rows = batch * Input.Shape.H * Input.Shape.W;
        if (training)
        {
            kernels.ShiftBatchNormTrain(x, rows, Channels, Gamma.Value, Beta.Value, y, mean, invStd, gammaPow2, RunningMean, RunningVar,
                Momentum, Epsilon, SharedScale);
        }
        else
        {
            var (a, b) = InferenceAffine();
            Backend.Upload(a, scale);
            Backend.Upload(b, shift);
            Backend.ScaleShift(x, rows, Channels, scale, shift, y);
        }
        return y;
    }

    public override Tensor? Backward(Tensor dy, int batch)
    {
        int rows = batch * Input.Shape.H * Input.Shape.W;
        Backend.BatchNormBackward(x, dy, rows, Channels, gammaPow2, mean, invStd, dx, Gamma.Gradient, Beta.Gradient, SharedScale);
        return dx;
    }

    /// <summary>
    /// The inference map y_c = fma(x, scale_c, shift_c) with scale = AP2(γ) · AP2(1/√(runningVar + ε)) (a power
    /// of two) and shift = β − runningMean · scale, the form of <see cref="BatchNorm.InferenceAffine"/>, so the
    /// export folds it the same way.
    /// </summary>
    public (float[] Scale, float[] Shift) InferenceAffine()
    {
        var g = new float[ScaleCount];
        var v = new float[ScaleCount];
        var b = new float[Channels];
        var m = new float[Channels];
        Backend.Download(Gamma.Value, g);
        Backend.Download(RunningVar, v);
        Backend.Download(Beta.Value, b);
        Backend.Download(RunningMean, m);
        return Affine(g, b, m, v, Epsilon, SharedScale);
    }

    /// <summary>
    /// The inference affine map of shift-based batch-norm parameters (see <see cref="InferenceAffine"/>): the exact
    /// batch norm's map (<see cref="BatchNorm.Affine"/>) of γ' = AP2(γ) · AP2(1/√(var + ε)) with variance 1 and
    /// ε = 0, whose scale is γ' exactly.
    /// </summary>
    public static (float[] Scale, float[] Shift) Affine(float[] gamma, float[] beta, float[] mean, float[] variance, float epsilon, bool shared)
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

    public override IReadOnlyList<Parameter> Parameters => [Gamma, Beta];

    public override IReadOnlyList<Tensor> State => [RunningMean, RunningVar];

    public override string Describe() => SharedScale ? $"shift_batch_norm {Input.Shape}, shared scale (score head)" : $"shift_batch_norm {Input.Shape}";
}
