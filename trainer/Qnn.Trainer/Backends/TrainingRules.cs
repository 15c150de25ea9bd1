namespace Qnn.Trainer.Backends;

/// <summary>
/// The element-wise arithmetic of the loss and of Adam, one definition that the CPU loops and the ILGPU kernels both
/// call (as <see cref="LowPrecision.ShiftRules"/> is for shift-based batch norm and AdaMax), so the backends agree
/// bit for bit. The CPU backend's Vector256 lanes restate <see cref="AdamRule"/> operation for operation; the backend
/// tests pin them to it.
/// </summary>
public static class LossRule
{
    /// <summary>The paper's squared hinge term of one class: max(0, 1 − t·y) with t = +1 for the label, else −1.</summary>
    public static float HingeMargin(float score, bool isLabel) => MathF.Max(0f, 1f - (isLabel ? 1f : -1f) * score);

    /// <summary>
    /// d/dy of the mean over samples and classes of max(0, 1 − t·y)²: −2 · t · margin / (rows · classes).
    /// </summary>
    public static float HingeGradient(float margin, bool isLabel, int rows, int classes) =>
        -2f * (isLabel ? 1f : -1f) * margin / ((float)rows * classes);

    /// <summary>
    /// d/dy of the mean softmax cross-entropy: (e^(y − max) / z − [label]) / rows, with z = Σ e^(y − max).
    /// </summary>
    public static float SoftmaxGradient(float score, float max, double z, bool isLabel, int rows) =>
        (float)((Math.Exp(score - max) / z - (isLabel ? 1 : 0)) / rows);

    /// <summary>−log softmax(y)_label = log z + max − y_label.</summary>
    public static float SoftmaxLoss(double z, float max, float labelScore) => (float)(Math.Log(z) + max - labelScore);
}

/// <summary>
/// Adam (Kingma and Ba; the step of Lasagne used by the paper), per element: m = β1·m + (1−β1)·g,
/// v = β2·v + (1−β2)·g², p −= stepSize · m / (√v + ε), then p clipped to [clipLow, clipHigh].
/// </summary>
public static class AdamRule
{
    public static float NextMoment(float m, float g, float beta1) => beta1 * m + (1f - beta1) * g;

    public static float NextVariance(float v, float g, float beta2) => beta2 * v + (1f - beta2) * g * g;

    public static float NextParameter(float p, float m, float v, float stepSize, float epsilon, float clipLow, float clipHigh) =>
        MathF.Min(clipHigh, MathF.Max(clipLow, p - stepSize * m / (MathF.Sqrt(v) + epsilon)));
}
