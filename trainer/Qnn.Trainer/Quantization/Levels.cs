namespace Qnn.Trainer.Quantization;

/// <summary>
/// The one definition of the b-bit quantizer of format/SPEC.md 1.1 and 1.6, shared by the CPU loops, the ILGPU
/// kernels, the batch-norm folding of the export and the tests: odd symmetric levels v = 2q − L (L = 2^b − 1) of x
/// clipped to [−1, 1], with the rounding boundaries (2l − 1 − L) / L and ties going up. For b = 1 it is the paper's
/// deterministic binarization x_b = Sign(x) (BNN Eq. 1, with Sign(0) = +1).
/// </summary>
/// <remarks>
/// Written in the subset ILGPU compiles for every accelerator (no Math.Clamp, whose argument check throws), so the
/// GPU kernels call it instead of restating it.
/// </remarks>
public static class Levels
{
    /// <summary>L = 2^bits − 1, the largest level.</summary>
    public static int Max(int bits) => (1 << bits) - 1;

    /// <summary>The level index q ∈ {0 … L} of x: the number of boundaries at or below x.</summary>
    public static int Index(float x, int bits)
    {
        if (bits == 1) return x >= 0f ? 1 : 0;          // sign(0) = +1; NaN goes to the lowest level
        // The level is defined by comparisons with the float32 boundaries; floor((x·L + L + 1) / 2) is only a
        // first guess, since its rounding may cross a boundary.
        return Search(x, bits, linear: false, (int)MathF.Floor((x * Max(bits) + Max(bits) + 1) * 0.5f));
    }

    /// <summary>
    /// The level index of x on a grid of 2^bits levels (the odd grid, or <see cref="LinearLevels"/>' when
    /// <paramref name="linear"/>): 0 below the first boundary (and for NaN), L at or above the last, else the q with
    /// boundary(q) ≤ x &lt; boundary(q + 1), found from <paramref name="guess"/> by exact comparisons (so the result
    /// does not depend on the guess, only the number of steps does).
    /// </summary>
    public static int Search(float x, int bits, bool linear, int guess)
    {
        int l = Max(bits);
        if (!(x >= Boundary(1, bits, linear))) return 0;
        if (x >= Boundary(l, bits, linear)) return l;
        int q = guess < 1 ? 1 : guess > l - 1 ? l - 1 : guess;
        while (q > 0 && !(x >= Boundary(q, bits, linear))) q--;
        while (q < l && x >= Boundary(q + 1, bits, linear)) q++;
        return q;
    }

    private static float Boundary(int l, int bits, bool linear) => linear ? LinearLevels.Boundary(l, bits) : Boundary(l, bits);

    /// <summary>The odd level v = 2q − L of x.</summary>
    public static float Quantize(float x, int bits) => 2 * Index(x, bits) - Max(bits);

    /// <summary>Boundary b_l = (2l − 1 − L) / L as float32 (l = 1 … L): level l starts at it.</summary>
    public static float Boundary(int l, int bits)
    {
        int max = Max(bits);
        return (float)((2.0 * l - 1 - max) / max);
    }
}
