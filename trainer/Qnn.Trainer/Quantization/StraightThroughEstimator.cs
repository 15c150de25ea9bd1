namespace Qnn.Trainer.Quantization;

/// <summary>The two straight-through estimators of the paper: which gradient a quantizer passes back.</summary>
public enum StraightThrough
{
    /// <summary>g_r = g_q: for the latent weights, which the optimizer keeps in [−1, 1] by clipping instead.</summary>
    Identity,

    /// <summary>
    /// g_r = g_q · 1_{|r| ≤ 1} (BNN paper Eq. 4, the gradient of hard tanh): for activations, the gradient is cancelled
    /// where the input lies outside [−1, 1] (also for NaN).
    /// </summary>
    HardTanh,
}

/// <summary>
/// The straight-through estimator's backward, one definition that the CPU loops and the ILGPU kernels both call. The
/// quantizers store levels v = L · (the paper's quantized value), so the gradient is scaled by
/// <c>scale</c> = L (<see cref="Levels.Max"/>).
/// </summary>
public static class StraightThroughEstimator
{
    /// <summary>dx = scale · dy, or 0 where <paramref name="estimator"/> cancels it.</summary>
    public static float Gradient(StraightThrough estimator, float x, float dy, float scale) =>
        estimator == StraightThrough.HardTanh && !(MathF.Abs(x) <= 1f) ? 0f : scale * dy;
}
