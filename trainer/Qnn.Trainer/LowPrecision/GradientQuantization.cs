using Qnn.Trainer.Backends;

namespace Qnn.Trainer.LowPrecision;

/// <summary>
/// The k-bit gradient quantizer of the QNN paper (Hubara et al., "Quantized Neural Networks", 2016/JMLR 2018,
/// section on quantized gradients, which takes it from DoReFa-Net, Zhou et al. 2016, eq. 12): max-norm scaling and
/// stochastic rounding,
/// <code>
///   GQ(r) = 2·M · [ quantize_k( r / (2M) + 1/2 + N_k ) − 1/2 ],   M = max |r|,   N_k = σ / (2^k − 1), σ ~ U(−1/2, 1/2),
///   quantize_k(t) = round((2^k − 1)·t) / (2^k − 1).
/// </code>
/// With L = 2^k − 1 this is GQ(r) = (M / L) · v with the odd level v = 2i − L, i = floor(L·(r/(2M) + 1/2) + u),
/// u ~ U[0, 1) (stochastic rounding: E[GQ(r)] = r), i clipped to [0, L]: the same odd levels −L … L as the
/// activations (format/SPEC.md 1.1), so v splits into k ±1 bit-planes (v = Σ_j 2^j (2·bit_j(i) − 1)) and a product
/// with binary weights or activations is k XNOR-popcounts (<see cref="BitwiseGemm"/>).
/// </summary>
/// <remarks>
/// The scale M is per tensor (<see cref="GradientScale.Tensor"/>, the default) or per sample
/// (<see cref="GradientScale.Sample"/>: DoReFa-Net's eq. 12 and its authors' code take max |r| over every axis but the
/// batch); when M = 0 the scale is 0 and the levels are those of r = 0. The uniform u of element i is <see cref="DropoutMask.Uniform"/>(seed, i), a
/// function of (seed, i) only, so every backend and a resumed run draw the same roundings. This method is the one
/// definition: the CPU loops and the ILGPU kernels call it.
/// </remarks>
public static class GradientQuantization
{
    /// <summary>The names of <c>--grad-scale</c>, in the order of <see cref="GradientScale"/>.</summary>
    public static readonly string[] ScaleNames = ["tensor", "sample"];

    /// <summary>Parses a <c>--grad-scale</c> value; one line naming the known values otherwise.</summary>
    public static GradientScale ParseScale(string? name) => (name ?? "tensor").ToLowerInvariant() switch
    {
        "tensor" or "" => GradientScale.Tensor,
        "sample" => GradientScale.Sample,
        _ => throw new ArgumentException($"--grad-scale: unknown scale \"{name}\" (known: {string.Join(", ", ScaleNames)})"),
    };

    /// <summary>The names of <c>--grad-layers</c>.</summary>
    public static readonly string[] LayerNames = ["all", "hidden"];

    /// <summary>Parses a <c>--grad-layers</c> value: true for "hidden" (the first and last product layers keep float gradients).</summary>
    public static bool ParseHiddenOnly(string? name) => (name ?? "all").ToLowerInvariant() switch
    {
        "all" or "" => false,
        "hidden" => true,
        _ => throw new ArgumentException($"--grad-layers: unknown choice \"{name}\" (known: {string.Join(", ", LayerNames)})"),
    };

    /// <summary>Bits meaning "not quantized" (float32 gradients).</summary>
    public const int Off = 32;

    /// <summary>The level index i ∈ [0, L] of gradient <paramref name="r"/> for a tensor whose max |r| is <paramref name="maxAbs"/>.</summary>
    public static int Index(float r, float maxAbs, int max, float u)
    {
        float ratio = maxAbs > 0f ? r / maxAbs : 0f;               // r / M ∈ [−1, 1]
        float t = (ratio + 1f) * 0.5f * max + u;                     // L·(r/(2M) + 1/2) + u
        int i = (int)MathF.Floor(t);
        return i < 0 ? 0 : i > max ? max : i;                        // t can round up to L + 1 next to r = M
    }

    /// <summary>The odd level v = 2i − L of element <paramref name="index"/> (u drawn from (seed, index)).</summary>
    public static float Level(float r, float maxAbs, int max, ulong seed, int index) =>
        2 * Index(r, maxAbs, max, DropoutMask.Uniform(seed, index)) - max;

    /// <summary>The scale M / L that turns levels back into gradients.</summary>
    public static float Scale(float maxAbs, int max) => maxAbs / max;

    /// <summary>
    /// The seed of one quantization: run seed, layer, step, and which tensor (0: the output gradient that both
    /// backward products use, 1: the weight gradient before the optimizer).
    /// </summary>
    public static ulong Seed(int runSeed, int layer, long step, int tensor) =>
        DropoutMask.Seed(runSeed, 0x4000 + 2 * layer + tensor, step);
}

/// <summary>Over what the max-norm M of <see cref="GradientQuantization"/> is taken.</summary>
public enum GradientScale
{
    /// <summary>One M for the whole gradient tensor of a layer's output (batch included).</summary>
    Tensor,

    /// <summary>One M per sample (each row of the batch): DoReFa-Net's eq. 12, which the QNN paper cites.</summary>
    Sample,
}
