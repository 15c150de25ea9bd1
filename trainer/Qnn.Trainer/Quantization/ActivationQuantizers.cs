using Qnn.Trainer.Backends;

namespace Qnn.Trainer.Quantization;

/// <summary>The activation quantizers of the papers, chosen by name (`qnn train --act-quant`).</summary>
public enum ActivationQuantizer
{
    /// <summary>
    /// Today's grid (<see cref="Levels"/>): 2^k odd levels without 0, symmetric; k = 1 is the deterministic sign
    /// (BNN Eq. 1). Stored as the odd level v = 2q − L.
    /// </summary>
    Odd = 0,

    /// <summary>
    /// The QNN paper's LinearQuant(x) = Clip(round(x / Δ) · Δ, −1, 1 − Δ) with Δ = 2^(1−k): 2^k evenly spaced levels
    /// that contain 0 (<see cref="LinearLevels"/>). Stored as 2^k times the paper's value, the even integer v − 1,
    /// an affine map of the odd level v that the export folds into the next layer's thresholds or scores.
    /// </summary>
    Linear = 1,

    /// <summary>
    /// Stochastic binarization (BNN Eq. 2–3): +1 with probability hard_sigmoid(x) = clip((x + 1) / 2, 0, 1) while
    /// training; the deterministic sign at inference, so the deployed model is an ordinary 1-bit one.
    /// </summary>
    Stochastic = 2,
}

/// <summary>
/// The QNN paper's linear quantizer with 0 in the grid: level index q ∈ {0 … 2^k − 1} of the value −1 + q·Δ,
/// Δ = 2^(1−k), rounding to nearest with ties up (as SPEC 1.6) and clipping to [−1, 1 − Δ]. The runtime sees the
/// same index q as an odd level v = 2q − L; the trainer stores v − 1 = 2q − 2^k.
/// </summary>
/// <remarks>Written in the subset ILGPU compiles (no Math.Clamp), so the kernels call it.</remarks>
public static class LinearLevels
{
    /// <summary>Boundary where level l (1 … L) starts: −1 + (l − ½)·Δ, exact in float32 (Δ is a power of two).</summary>
    public static float Boundary(int l, int bits) => -1f + (2 * l - 1) * (1f / (1 << bits));

    /// <summary>The level index q of x: the number of boundaries at or below x (NaN: 0).</summary>
    public static int Index(float x, int bits) =>
        Levels.Search(x, bits, linear: true, (int)MathF.Floor((x + 1f) * (1 << (bits - 1)) + 0.5f));   // first guess, fixed by exact comparisons

    /// <summary>The stored value of level q: 2q − 2^k = 2^k · (−1 + q·Δ), the odd level minus 1.</summary>
    public static float Stored(int q, int bits) => 2 * q - (1 << bits);

    public static float Quantize(float x, int bits) => Stored(Index(x, bits), bits);

    /// <summary>d(stored)/dx inside the clip range: 2^k (the straight-through estimator's scale).</summary>
    public static float Scale(int bits) => 1 << bits;
}

/// <summary>
/// BNN Eq. 2–3: x_b = +1 with probability σ(x) = clip((x + 1) / 2, 0, 1), else −1. The uniform number of element i
/// is <see cref="DropoutMask.Uniform"/>(seed, i), the seed a function of (run seed, layer, step), so the CPU and ILGPU
/// backends draw the same bits and a resumed run the ones it would have drawn.
/// </summary>
public static class StochasticBinarization
{
    /// <summary>The hard sigmoid σ(x) = clip((x + 1) / 2, 0, 1) (NaN stays NaN, and then gives −1).</summary>
    public static float HardSigmoid(float x)
    {
        float p = (x + 1f) * 0.5f;
        return p < 0f ? 0f : p > 1f ? 1f : p;
    }

    /// <summary>+1 when u &lt; σ(x), u = Uniform(seed, index) ∈ [0, 1): x ≥ 1 always gives +1, x ≤ −1 always −1.</summary>
    public static float Binarize(float x, ulong seed, int index) => DropoutMask.Uniform(seed, index) < HardSigmoid(x) ? 1f : -1f;

    /// <summary>The layer's seed stream, apart from dropout's (whose layer indices are below 2^16).</summary>
    public static ulong Seed(int runSeed, int layer, long step) => DropoutMask.Seed(runSeed, layer | 0x4000, step);

    /// <summary>A weight layer's seed stream (stochastic weights), apart from its activations' and dropout's.</summary>
    public static ulong WeightSeed(int runSeed, int layer, long step) => DropoutMask.Seed(runSeed, layer | 0x2000, step);
}

/// <summary>One rule for every activation quantizer: what the CPU loops and the ILGPU kernel compute per element.</summary>
public static class ActivationQuantizers
{
    /// <summary>The stored level of x under <paramref name="quantizer"/> (an <see cref="ActivationQuantizer"/>) in training.</summary>
    public static float Training(int quantizer, float x, int bits, ulong seed, int index) =>
        quantizer == (int)ActivationQuantizer.Linear ? LinearLevels.Quantize(x, bits)
        : quantizer == (int)ActivationQuantizer.Stochastic ? StochasticBinarization.Binarize(x, seed, index)
        : Levels.Quantize(x, bits);

    /// <summary>The level index the deployed model computes (stochastic: the deterministic sign).</summary>
    public static int Index(ActivationQuantizer quantizer, float x, int bits) =>
        quantizer == ActivationQuantizer.Linear ? LinearLevels.Index(x, bits) : Levels.Index(x, bits);

    /// <summary>The trainer's stored value of level index q.</summary>
    public static float Stored(ActivationQuantizer quantizer, int q, int bits) =>
        quantizer == ActivationQuantizer.Linear ? LinearLevels.Stored(q, bits) : 2 * q - Levels.Max(bits);

    /// <summary>The straight-through estimator's scale, d(stored)/dx inside [−1, 1].</summary>
    public static float Scale(ActivationQuantizer quantizer, int bits) =>
        quantizer == ActivationQuantizer.Linear ? LinearLevels.Scale(bits) : Levels.Max(bits);

    /// <summary>The CLI's names: sign (odd at 1 bit), odd, linear, stochastic (1 bit).</summary>
    public static readonly string[] Names = ["odd", "sign", "linear", "stochastic"];

    /// <summary>The quantizer of a name and bit count, or one line naming --act-quant.</summary>
    public static ActivationQuantizer Parse(string name, int bits) => name.ToLowerInvariant() switch
    {
        "odd" => ActivationQuantizer.Odd,
        "sign" when bits == 1 => ActivationQuantizer.Odd,
        "stochastic" when bits == 1 => ActivationQuantizer.Stochastic,
        "linear" => ActivationQuantizer.Linear,
        "sign" or "stochastic" => throw new ArgumentException($"--act-quant {name} binarizes: it needs --act-bits 1, not {bits}"),
        _ => throw new ArgumentException($"--act-quant: unknown quantizer \"{name}\" (known: {string.Join(", ", Names)})"),
    };
}
