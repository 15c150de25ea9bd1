using Qnn.Format;

namespace Qnn.Trainer.Quantization;

/// <summary>The weight quantizers of the papers, chosen by name (`qnn train --weight-quant`).</summary>
public enum WeightQuantizer
{
    /// <summary>
    /// Today's grid (<see cref="Levels"/>): 2^m odd levels without 0; m = 1 is the deterministic sign (BNN Eq. 1).
    /// Exported with weight code 0 (SPEC 1.1).
    /// </summary>
    Odd = 0,

    /// <summary>
    /// Stochastic binarization of the weights (BNN Eq. 2–3): +1 with probability hard_sigmoid(w) at every training
    /// step, the deterministic sign at evaluation and in the exported model (an ordinary 1-bit model).
    /// </summary>
    Stochastic = 2,

    /// <summary>
    /// The QNN paper's LogQuant(x) = Clip(AP2(x), minV, maxV): signed powers of two (<see cref="LogLevels"/>),
    /// exported with weight code 1 (SPEC 1.3), where every product is a shift.
    /// </summary>
    Log = 3,
}

/// <summary>
/// The QNN paper's logarithmic quantizer for weights, LogQuant(x) = Clip(AP2(x), minV, maxV) with
/// AP2(x) = sign(x) · 2^round(log2 |x|). The paper names minV and maxV "the minimum and maximum scale range" and
/// gives no values; here, with m bits (one for the sign, m − 1 for the exponent, E = 2^(m−1) exponents),
/// maxV = 1 (BinaryConnect keeps the latent weights in [−1, 1]) and minV = 2^−(E−1), so the m bits cover the E
/// powers of two below 1. The value ±2^(e − (E−1)) is stored unscaled, as ±2^e (e = 0 … E − 1), exactly the integer
/// the runtimes multiply by (SPEC 1.3), so the float graph's products stay exact integers.
/// </summary>
/// <remarks>
/// Rounding in the log domain, as AP2: |x| ≥ 2^(l − ½) rounds up to 2^l, so the boundaries are
/// b_l = √½ · 2^(l − (E−1)) (l = 1 … E − 1), one float32 constant times a power of two (exact); below b_1,
/// zero included, the clip gives minV. sign(0) = +1 as everywhere (SPEC 1.1); NaN goes to −minV.
/// Written in the subset ILGPU compiles, so the kernels call it.
/// </remarks>
public static class LogLevels
{
    /// <summary>√½ rounded to float32: the geometric midpoint of two neighbouring powers of two, relative to the lower.</summary>
    private const float Midpoint = 0.70710677f;

    /// <summary>E = 2^(m−1) exponents.</summary>
    public static int Exponents(int bits) => 1 << (bits - 1);

    /// <summary>Boundary b_l = √½ · 2^(l − (E−1)) where exponent l (1 … E − 1) starts, exact in float32.</summary>
    public static float Boundary(int l, int bits) => Midpoint * (1 << l) / (1 << (Exponents(bits) - 1));

    /// <summary>The exponent e ∈ 0 … E − 1 of x: the number of boundaries at or below |x|.</summary>
    public static int Exponent(float x, int bits)
    {
        float a = MathF.Abs(x);
        int e = 0;
        for (int l = 1; l < Exponents(bits); l++)
            if (a >= Boundary(l, bits)) e = l;
        return e;
    }

    /// <summary>The weight code q of x (SPEC 1.3): bit 0 the sign (1 = +), bits 1 … m − 1 the exponent.</summary>
    public static int Code(float x, int bits) => (Exponent(x, bits) << 1) | (x >= 0f ? 1 : 0);

    /// <summary>The stored value of code q: ±2^e (<see cref="LayerSpec.WeightValue"/> of a log layer).</summary>
    public static float Stored(int q) => (q & 1) != 0 ? 1 << (q >> 1) : -(1 << (q >> 1));

    /// <summary>The stored value of x: ±2^e = 2^(E−1) · LogQuant(x).</summary>
    public static float Quantize(float x, int bits) => Stored(Code(x, bits));

    /// <summary>The straight-through estimator's scale: the stored value is 2^(E−1) times the paper's.</summary>
    public static float Scale(int bits) => 1 << (Exponents(bits) - 1);
}

/// <summary>One rule for every weight quantizer: what the CPU loops and the ILGPU kernels compute per weight.</summary>
public static class WeightQuantizers
{
    /// <summary>
    /// The stored value of latent weight x while training under <paramref name="quantizer"/> (a <see cref="WeightQuantizer"/>):
    /// the odd level, the log weight ±2^e, or the stochastic ±1 drawn from (seed, index).
    /// </summary>
    public static float Training(int quantizer, float x, int bits, ulong seed, int index) =>
        quantizer == (int)WeightQuantizer.Log ? LogLevels.Quantize(x, bits)
        : quantizer == (int)WeightQuantizer.Stochastic ? StochasticBinarization.Binarize(x, seed, index)
        : Levels.Quantize(x, bits);

    /// <summary>The CLI's names: sign (odd at 1 bit), odd, log, stochastic (1 bit). "linear" is refused, with the reason.</summary>
    public static readonly string[] Names = ["odd", "sign", "log", "stochastic"];

    /// <summary>The weight code the export writes (SPEC 2.3 byte 6).</summary>
    public static WeightCode Code(WeightQuantizer quantizer) => quantizer == WeightQuantizer.Log ? WeightCode.Log : WeightCode.Odd;

    /// <summary>The code q (plane i = bit i) of latent weight x in the exported model (stochastic: the deterministic sign).</summary>
    public static int Deployed(WeightQuantizer quantizer, float x, int bits) =>
        quantizer == WeightQuantizer.Log ? LogLevels.Code(x, bits) : Levels.Index(x, bits);

    /// <summary>The trainer's stored value of code q, the integer the runtimes multiply by.</summary>
    public static int Stored(WeightQuantizer quantizer, int q, int bits) =>
        quantizer == WeightQuantizer.Log ? (int)LogLevels.Stored(q) : 2 * q - Levels.Max(bits);

    /// <summary>The largest stored |value|.</summary>
    public static int Largest(WeightQuantizer quantizer, int bits) =>
        quantizer == WeightQuantizer.Log ? (int)LogLevels.Scale(bits) : Levels.Max(bits);

    /// <summary>The straight-through estimator's scale, d(stored)/dx inside [−1, 1].</summary>
    public static float Scale(WeightQuantizer quantizer, int bits) =>
        quantizer == WeightQuantizer.Log ? LogLevels.Scale(bits) : Levels.Max(bits);

    /// <summary>The quantizer of a name and bit count, or one line naming --weight-quant.</summary>
    public static WeightQuantizer Parse(string name, int bits) => name.ToLowerInvariant() switch
    {
        "odd" => WeightQuantizer.Odd,
        "sign" when bits == 1 => WeightQuantizer.Odd,
        "stochastic" when bits == 1 => WeightQuantizer.Stochastic,
        "log" when bits >= FormatConstants.MinLogBits && bits <= FormatConstants.MaxLogBits => WeightQuantizer.Log,
        "sign" or "stochastic" => throw new ArgumentException($"--weight-quant {name} binarizes: it needs --weight-bits 1, not {bits}"),
        "log" => throw new ArgumentException($"--weight-quant log needs --weight-bits {FormatConstants.MinLogBits}-{FormatConstants.MaxLogBits} " +
            $"(one sign bit and 1-3 exponent bits; at 1 bit a log weight is the sign: use --weight-quant sign), not {bits}"),
        "linear" => throw new ArgumentException("--weight-quant linear: the paper's LinearQuant grid holds 0, and a .qnn weight cannot be 0 " +
            "(odd levels, or ±2^e); see trainer/README.md"),
        _ => throw new ArgumentException($"--weight-quant: unknown quantizer \"{name}\" (known: {string.Join(", ", Names)})"),
    };
}
