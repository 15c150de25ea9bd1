using ILGPU;
using Qnn.Trainer.Backends;
using Qnn.Trainer.LowPrecision;
using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.Gpu.Kernels;

/// <summary>
/// The element-wise kernels, each the CPU backend's loop body with the same float operations in the same order
/// (the shared rules — <see cref="Levels"/>, <see cref="StraightThroughEstimator"/>, <see cref="AdamRule"/>,
/// <see cref="DropoutMask"/>, <see cref="GradientQuantization"/>, <see cref="ShiftRules"/> — are called, not copied).
/// </summary>
public static class Elementwise
{
    public static void Fill(Index1D i, ArrayView<float> x, float value) => x[i] = value;

    /// <summary>The b-bit odd level, <see cref="Levels.Quantize"/> (b = 1: sign with sign(0) = +1).</summary>
    public static void Quantize(Index1D i, ArrayView<float> x, ArrayView<float> y, int bits) => y[i] = Levels.Quantize(x[i], bits);

    /// <summary><see cref="ActivationQuantizers.Training"/>: odd, linear or stochastic (<paramref name="quantizer"/>).</summary>
    public static void QuantizeActivation(Index1D i, ArrayView<float> x, ArrayView<float> y, int bits, int quantizer, ulong seed) =>
        y[i] = ActivationQuantizers.Training(quantizer, x[i], bits, seed, i);

    /// <summary><see cref="WeightQuantizers.Training"/>: odd, log or stochastic weights (<paramref name="quantizer"/>).</summary>
    public static void QuantizeWeights(Index1D i, ArrayView<float> x, ArrayView<float> y, int bits, int quantizer, ulong seed) =>
        y[i] = WeightQuantizers.Training(quantizer, x[i], bits, seed, i);

    /// <summary><see cref="StraightThroughEstimator.Gradient"/>; <paramref name="estimator"/> is a <see cref="StraightThrough"/>.</summary>
    public static void QuantizeBackward(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, float scale, int estimator) =>
        dx[i] = StraightThroughEstimator.Gradient((StraightThrough)estimator, x[i], dy[i], scale);

    public static void ScaleShift(Index1D i, ArrayView<float> x, ArrayView<float> scale, ArrayView<float> shift, ArrayView<float> y, int channels)
    {
        int c = i % channels;
        y[i] = MathF.FusedMultiplyAdd(x[i], scale[c], shift[c]);
    }

    public static void Dropout(Index1D i, ArrayView<float> x, ArrayView<float> y, float rate, float keepScale, ulong seed) =>
        y[i] = DropoutMask.Keep(seed, i, rate) ? x[i] * keepScale : 0f;

    public static void Adam(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v, AdamArgs a)
    {
        float mi = AdamRule.NextMoment(m[i], g[i], a.Beta1);
        float vi = AdamRule.NextVariance(v[i], g[i], a.Beta2);
        m[i] = mi;
        v[i] = vi;
        p[i] = AdamRule.NextParameter(p[i], mi, vi, a.StepSize, a.Epsilon, a.ClipLow, a.ClipHigh);
    }

    public static void AdaMaxShift(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> u, AdamArgs a)
    {
        float mi = ShiftRules.NextMoment(m[i], g[i], a.Beta1);
        float ui = ShiftRules.NextNorm(u[i], g[i], a.Beta2);
        m[i] = mi;
        u[i] = ui;
        p[i] = ShiftRules.NextParameter(p[i], mi, ui, a.StepSize, a.ClipLow, a.ClipHigh);
    }

    /// <summary>
    /// Max |g| of a tensor as the int bits of a non-negative float (whose int order is the float order), reduced
    /// with an atomic maximum: the maximum does not depend on the order, so the result is the CPU's.
    /// </summary>
    public static void MaxAbs(Index1D i, ArrayView<float> g, ArrayView<int> result, int count, int stride)
    {
        int best = 0;
        for (int e = i; e < count; e += stride)
        {
            int bits = (int)Interop.FloatAsInt(MathF.Abs(g[e]));
            best = bits > best ? bits : best;
        }
        Atomic.Max(ref result[0], best);
    }

    /// <summary>
    /// Max |g| of group n (elements [n·size, (n+1)·size)) as the int bits of a non-negative float, one thread per
    /// group: the per-sample scales of <see cref="GradientScale.Sample"/>.
    /// </summary>
    public static void GroupMaxAbs(Index1D n, ArrayView<float> g, ArrayView<int> result, int size)
    {
        int best = 0;
        for (int e = n * size, end = e + size; e < end; e++)
        {
            int bits = (int)Interop.FloatAsInt(MathF.Abs(g[e]));
            best = bits > best ? bits : best;
        }
        result[n] = best;
    }

    /// <summary>
    /// Levels and scaled levels of <see cref="GradientQuantization"/>, given the maximum of each group of
    /// <paramref name="size"/> elements from <see cref="MaxAbs"/> or <see cref="GroupMaxAbs"/>.
    /// </summary>
    public static void QuantizeGradient(Index1D i, ArrayView<float> g, ArrayView<int> maxBits, ArrayView<float> levels,
        ArrayView<float> scale, ArrayView<float> quantized, int max, ulong seed, int size)
    {
        int n = i / size;
        float maxAbs = Interop.IntAsFloat((uint)maxBits[n]);
        float s = GradientQuantization.Scale(maxAbs, max);
        float level = GradientQuantization.Level(g[i], maxAbs, max, seed, i);
        levels[i] = level;
        quantized[i] = s * level;
        if (i == n * size) scale[n] = s;
    }

    /// <summary>
    /// Word w of plane j of row r of a <see cref="LevelPlanes"/> matrix (layout [row][plane][word]; bit p set when
    /// bit j of q = (v + L)/2 is set, v the level at (r, 64w + p)), from row-major levels or, when
    /// <paramref name="transposed"/> ≠ 0, from a k × rows source. Bits past k stay 0.
    /// </summary>
    public static void PackLevelPlanes(Index1D index, ArrayView<float> source, ArrayView<ulong> planes, int rows, int k, int bits, int words, int transposed)
    {
        int w = index % words, rest = index / words, j = rest % bits, r = rest / bits, max = (1 << bits) - 1;
        ulong word = 0;
        int p0 = w * 64, p1 = p0 + 64 < k ? p0 + 64 : k;
        for (int p = p0; p < p1; p++)
        {
            float v = transposed != 0 ? source[(long)p * rows + r] : source[(long)r * k + p];
            int q = ((int)v + max) >> 1;
            if (((q >> j) & 1) != 0) word |= 1UL << (p - p0);
        }
        planes[index] = word;
    }

    /// <summary>
    /// One output of <see cref="BitwiseGemm.Multiply"/>: L_a·L_b·k − 2·Σ_(s,t) 2^(s+t)·popcount(a_s XOR b_t);
    /// index.X is the row j of B, index.Y the row i of A.
    /// </summary>
    public static void LevelProduct(Index2D index, ArrayView<ulong> a, ArrayView<ulong> b, ArrayView<float> c, int n, int k, int words, int bitsA, int bitsB)
    {
        int j = index.X, i = index.Y;
        long weighted = 0;
        for (int s = 0; s < bitsA; s++)
            for (int t = 0; t < bitsB; t++)
            {
                int diff = 0;
                long oa = ((long)i * bitsA + s) * words, ob = ((long)j * bitsB + t) * words;
                for (int w = 0; w < words; w++) diff += IntrinsicMath.PopCount(a[oa + w] ^ b[ob + w]);
                weighted += (long)diff << (s + t);
            }
        long full = (long)((1 << bitsA) - 1) * ((1 << bitsB) - 1) * k;
        c[(long)i * n + j] = full - 2 * weighted;
    }

    /// <summary>t[i] · scales[row of i]: <see cref="ILowPrecisionBackend.ScaleRows"/>.</summary>
    public static void ScaleRows(Index1D i, ArrayView<float> t, ArrayView<float> scales, int cols) => t[i] = t[i] * scales[i / cols];

    /// <summary>
    /// One weight-gradient element under per-sample scales, the CPU's sum in the CPU's order
    /// (<see cref="ILowPrecisionBackend.SampleWeightGradient"/>): Σ_n s_n · I_n[u, f], I_n the integer product over
    /// the sample's positions.
    /// </summary>
    public static void SampleWeightGradient(Index1D i, ArrayView<float> levels, ArrayView<float> scales, ArrayView<float> x,
        ArrayView<float> gradient, int batch, int positions, int units, int k)
    {
        int u = i / k, f = i - u * k;
        float acc = 0f;
        for (int n = 0; n < batch; n++)
        {
            float product = 0f;
            for (int p = 0; p < positions; p++)
            {
                int r = n * positions + p;
                product += levels[r * units + u] * x[r * k + f];
            }
            acc += scales[n] * product;
        }
        gradient[i] = acc;
    }
}

/// <summary>Scalars of an optimizer step (AdaMax-shift uses Beta1/Beta2 for 1 − β1 and 1 − β2).</summary>
public readonly record struct AdamArgs(float StepSize, float Beta1, float Beta2, float Epsilon, float ClipLow, float ClipHigh);
