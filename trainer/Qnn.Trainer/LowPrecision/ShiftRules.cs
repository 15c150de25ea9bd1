namespace Qnn.Trainer.LowPrecision;

/// <summary>
/// The element-wise arithmetic of shift-based batch norm and AdaMax (BNN paper, Algorithms 3 and 4), one definition
/// that the CPU loops and the ILGPU kernels both call, so the backends agree bit for bit. Every product here is with
/// a power of two from <see cref="PowerOfTwo.Approximate"/>, i.e. a shift of the exponent.
/// </summary>
public static class ShiftRules
{
    /// <summary>One term of the approximate variance: C · AP2(C) (≈ C², exact in float32).</summary>
    public static float VarianceTerm(float centered) => centered * PowerOfTwo.Approximate(centered);

    /// <summary>s = AP2(1 / √(σ² + ε)), the normalizing shift.</summary>
    public static float InverseStd(double variance, float epsilon) => PowerOfTwo.Approximate((float)(1.0 / Math.Sqrt(variance + epsilon)));

    /// <summary>y = AP2(γ) · ((x − μ) · s) + β, with <paramref name="gammaPow2"/> = AP2(γ) and s a power of two.</summary>
    public static float Normalize(float x, float mean, float invStd, float gammaPow2, float beta) => gammaPow2 * ((x - mean) * invStd) + beta;

    /// <summary>A running statistic blended as the exact batch norm's: (1 − momentum) · running + momentum · batch.</summary>
    public static float Running(float running, double batch, float momentum) => (float)((1 - momentum) * running + momentum * batch);

    /// <summary>AdaMax's first moment: m + (g − m) · (1 − β1) = β1·m + (1 − β1)·g, (1 − β1) a power of two.</summary>
    public static float NextMoment(float m, float g, float oneMinusBeta1) => m + (g - m) * oneMinusBeta1;

    /// <summary>AdaMax's infinity norm: max(β2·u, |g|) with β2·u = u − u·(1 − β2), (1 − β2) a power of two.</summary>
    public static float NextNorm(float u, float g, float oneMinusBeta2) => MathF.Max(u - u * oneMinusBeta2, MathF.Abs(g));

    /// <summary>
    /// p − step · (m ≪≫ AP2(u)⁻¹), clipped: m / AP2(u) is exact (a shift), as is the product with the power-of-two
    /// step. A parameter whose u is 0 has never had a gradient and does not move.
    /// </summary>
    public static float NextParameter(float p, float m, float u, float step, float clipLow, float clipHigh)
    {
        float delta = u > 0f ? step * (m / PowerOfTwo.Approximate(u)) : 0f;
        return MathF.Min(clipHigh, MathF.Max(clipLow, p - delta));
    }
}
