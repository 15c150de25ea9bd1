namespace Qnn.Trainer.LowPrecision;

/// <summary>
/// AP2, the "approximate power of 2" of the BNN paper (Hubara et al. 2016, Algorithms 3 and 4):
/// AP2(x) = sign(x) · 2^round(log2 |x|). A product with AP2(x) is a shift of the exponent, which is how shift-based
/// batch norm and shift-based AdaMax replace multiplications.
/// </summary>
/// <remarks>
/// Computed on the float's bits, never with a logarithm, so every backend (the CPU, ILGPU kernels on CUDA, OpenCL
/// or the CPU accelerator) gets the same bits: with |x| = m · 2^e, m ∈ [1, 2), round(log2 |x|) is e + 1 exactly when
/// m &gt; √2 (no float equals √2, so there is no tie). Zero stays zero, infinities stay infinite, NaN gives NaN;
/// subnormals (|x| &lt; 2^−126, irrelevant for gradients and variances) round as if their exponent were −127.
/// </remarks>
public static class PowerOfTwo
{
    /// <summary>Mantissa bits of float32(√2) = 1.41421354; the next float is above √2.</summary>
    private const int SqrtTwoMantissa = 0x3504F3;

    /// <summary>AP2(x) = sign(x) · 2^round(log2 |x|).</summary>
    public static float Approximate(float x)
    {
        int bits = BitConverter.SingleToInt32Bits(x);
        int exponent = bits & 0x7F800000;
        if (exponent == 0x7F800000) return x;                       // inf, NaN
        int mantissa = bits & 0x007FFFFF;
        if (exponent == 0 && mantissa == 0) return x;                // ±0
        int sign = bits & unchecked((int)0x80000000);
        int rounded = mantissa > SqrtTwoMantissa ? exponent + 0x00800000 : exponent;
        if (rounded == 0) rounded = 0x00800000;                       // a subnormal rounds to 2^−126 at least
        return BitConverter.Int32BitsToSingle(sign | rounded);       // 2^127 · 2 overflows to inf, as it should
    }
}
