using Qnn.Trainer.Backends;

namespace Qnn.Trainer.Layers;

/// <summary>
/// Batch normalization over all positions of each channel (Ioffe and Szegedy; the paper's BN after every binary
/// product). With <see cref="SharedScale"/> it has one scale and one variance for all channels and a per-channel
/// shift: the last-layer head, whose inference map a·x_c + b_c folds into integer scores
/// (acc_c &lt;&lt; shift) + offset_c because a is the same for every class (format/SPEC.md 1.7).
/// </summary>
public class BatchNorm(bool sharedScale = false, float momentum = 0.1f, float epsilon = 1e-4f) : Layer
{
    private Tensor x = null!, y = null!, dx = null!, scale = null!, shift = null!;

    /// <summary>The batch statistics of the last training forward, kept for the backward.</summary>
    protected Tensor BatchMean { get; private set; } = null!;
    protected Tensor BatchInvStd { get; private set; } = null!;

    /// <summary>The name of the kind; variants (shift-based batch norm) change only this and the hooks below.</summary>
    protected virtual string Name => "batch_norm";

    public override string Kind => SharedScale ? Name + "_shared" : Name;
    public bool SharedScale { get; } = sharedScale;
    public float Momentum { get; } = momentum;
    public float Epsilon { get; } = epsilon;
    public Parameter Gamma { get; private set; } = null!;
    public Parameter Beta { get; private set; } = null!;
    public Tensor RunningMean { get; private set; } = null!;
    public Tensor RunningVar { get; private set; } = null!;

    protected int Channels => Input.Shape.C;
    protected int ScaleCount => SharedScale ? 1 : Channels;

    protected override void OnBuild(Random rng)
    {
        var gamma = Backend.Allocate(ScaleCount);
        Backend.Fill(gamma, 1f);
        Gamma = new Parameter("bn.gamma", gamma, Backend.Allocate(ScaleCount), 1f, float.NegativeInfinity, float.PositiveInfinity);
        Beta = new Parameter("bn.beta", Backend.Allocate(Channels), Backend.Allocate(Channels), 1f, float.NegativeInfinity, float.PositiveInfinity);
        RunningMean = Backend.Allocate(Channels);
        RunningVar = Backend.Allocate(ScaleCount);
        Backend.Fill(RunningVar, 1f);
        BatchMean = Backend.Allocate(Channels);
        BatchInvStd = Backend.Allocate(ScaleCount);
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
            TrainForward(x, rows, y);
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
        Backend.BatchNormBackward(x, dy, rows, Channels, BackwardScale, BatchMean, BatchInvStd, dx, Gamma.Gradient, Beta.Gradient, SharedScale);
        return dx;
    }

    /// <summary>The training forward: normalize with the batch statistics and update the running ones.</summary>
    protected virtual void TrainForward(Tensor input, int rows, Tensor output) =>
        Backend.BatchNormTrain(input, rows, Channels, Gamma.Value, Beta.Value, output, BatchMean, BatchInvStd, RunningMean, RunningVar,
            Momentum, Epsilon, SharedScale);

    /// <summary>The scale the backward multiplies by (γ here).</summary>
    protected virtual Tensor BackwardScale => Gamma.Value;

    /// <summary>
    /// The inference map y_c = fma(x, scale_c, shift_c) with scale = gamma / sqrt(runningVar + eps) and
    /// shift = beta − runningMean · scale, in float32. The eval graph and the export's folding use these very floats,
    /// so the integer thresholds reproduce the eval graph's levels exactly.
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
        return InferenceAffineOf(g, b, m, v);
    }

    /// <summary>The inference affine map of these parameter values.</summary>
    protected virtual (float[] Scale, float[] Shift) InferenceAffineOf(float[] gamma, float[] beta, float[] mean, float[] variance) =>
        Affine(gamma, beta, mean, variance, Epsilon, SharedScale);

    /// <summary>The inference affine map of batch-norm parameters (see <see cref="InferenceAffine"/>).</summary>
    public static (float[] Scale, float[] Shift) Affine(float[] gamma, float[] beta, float[] mean, float[] variance, float epsilon, bool shared)
    {
        int channels = beta.Length;
        var a = new float[channels];
        var s = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            int i = shared ? 0 : c;
            a[c] = (float)(gamma[i] / Math.Sqrt((double)variance[i] + epsilon));
            s[c] = (float)(beta[c] - (double)mean[c] * a[c]);
        }
        return (a, s);
    }

    public override IReadOnlyList<Parameter> Parameters => [Gamma, Beta];

    public override IReadOnlyList<Tensor> State => [RunningMean, RunningVar];

    public override string Describe() => SharedScale ? $"{Name} {Input.Shape}, shared scale (score head)" : $"{Name} {Input.Shape}";
}
