using Qnn.Format;
using CsCheck;
using Qnn.Trainer.Backends;
using Qnn.Trainer.Export;
using Qnn.Trainer.Layers;
using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.Tests;

/// <summary>Batch norm and the k-bit quantizer folded into integer thresholds give exactly the float level.</summary>
public class FoldTests
{
    private static void AssertExact(float scale, float shift, int bits, int alpha, long delta, long bound)
    {
        var (t, flip) = ThresholdFold.Fold(scale, shift, bits, alpha, delta, bound);
        for (int i = 1; i < t.Length; i++)
            Assert.True(flip ? t[i - 1] >= t[i] : t[i - 1] <= t[i], "thresholds out of order");
        for (long acc = -bound; acc <= bound; acc++)
        {
            int expected = ThresholdFold.Level(acc, alpha, delta, scale, shift, bits);
            int got = ThresholdFold.Apply(acc, t, flip);
            if (expected != got)
                Assert.Fail($"scale {scale:R} shift {shift:R} bits {bits} alpha {alpha} delta {delta}: acc {acc} gives level {got}, the float graph {expected}");
        }
    }

    [Fact]
    public void Random_batch_norms_fold_exactly_for_k_1_to_4_and_both_signs()
    {
        Gen.Select(Gen.Int[1, 4], Gen.Double[-3, 3], Gen.Double[-2, 2], Gen.Double[-40, 40], Gen.Double[0.05, 30], Gen.Int[0, 3]).Sample(t =>
        {
            var (bits, gamma, beta, mean, variance, kind) = t;
            if (kind == 0) gamma = 0;                   // a constant channel
            var (a, b) = BatchNorm.Affine([(float)gamma], [(float)beta], [(float)mean], [(float)variance], 1e-4f, false);
            bool first = kind == 3;                     // the first layer: x = 2·acc − 255·Σw
            AssertExact(a[0], b[0], bits, first ? 2 : 1, first ? -255L * 7 : 0, 300);
        }, iter: 400);
    }

    [Fact]
    public void Exact_ties_go_up_and_extreme_scales_fold()
    {
        for (int bits = 1; bits <= 4; bits++)
        {
            int max = Levels.Max(bits);
            for (int l = 1; l <= max; l++)
            {
                // Exact ties: y(acc = 1) = fma(1, b_l, 0) = b_l, and y(acc = 0) = fma(0, 1e-3, b_l) = b_l.
                float boundary = Levels.Boundary(l, bits);
                AssertExact(boundary, 0f, bits, 1, 0, 40);
                var (t, flip) = ThresholdFold.Fold(boundary, 0f, bits, 1, 0, 40);
                Assert.Equal(l, ThresholdFold.Apply(1, t, flip));
                AssertExact(1e-3f, boundary, bits, 1, 0, 40);
                (t, flip) = ThresholdFold.Fold(1e-3f, boundary, bits, 1, 0, 40);
                Assert.Equal(l, ThresholdFold.Apply(0, t, flip));
                Assert.Equal(l - 1, ThresholdFold.Apply(-1, t, flip));
                AssertExact(-1e-3f, boundary, bits, 1, 0, 40);
                (t, flip) = ThresholdFold.Fold(-1e-3f, boundary, bits, 1, 0, 40);
                Assert.Equal(l, ThresholdFold.Apply(0, t, flip));
                Assert.Equal(l - 1, ThresholdFold.Apply(1, t, flip));
            }
            AssertExact(1e-30f, 0.3f, bits, 1, 0, 50);
            AssertExact(-1e30f, 0f, bits, 1, 0, 50);
            AssertExact(0f, -0.99f, bits, 1, 0, 10);
            AssertExact(float.NaN, 0f, bits, 1, 0, 10);
        }
    }

    [Fact]
    public void Constant_channels_use_the_spec_extremes()
    {
        var (up, _) = ThresholdFold.Fold(0f, 0.5f, 1, 1, 0, 100);
        var (down, _) = ThresholdFold.Fold(0f, -0.5f, 1, 1, 0, 100);
        Assert.Equal([int.MinValue], up);
        Assert.Equal([int.MaxValue], down);
    }

    [Fact]
    public void Away_from_ties_the_thresholds_are_the_spec_formula()
    {
        // SPEC 1.6 (informative): t_l = ceil(μ + σ (b_l − β) / γ) for γ > 0, floor(…) with a flip for γ < 0.
        Gen.Select(Gen.Int[1, 4], Gen.Double[-3, 3], Gen.Double[-1, 1], Gen.Double[-50, 50], Gen.Double[0.5, 30]).Sample(t =>
        {
            var (bits, gamma, beta, mean, variance) = t;
            if (Math.Abs(gamma) < 0.05) return;
            var (a, b) = BatchNorm.Affine([(float)gamma], [(float)beta], [(float)mean], [(float)variance], 1e-4f, false);
            var (th, flip) = ThresholdFold.Fold(a[0], b[0], bits, 1, 0, 1000);
            Assert.Equal(gamma < 0, flip);
            double sigma = Math.Sqrt(variance + 1e-4);
            for (int l = 1; l <= Levels.Max(bits); l++)
            {
                double exact = mean + sigma * (Levels.Boundary(l, bits) - beta) / gamma;
                if (Math.Abs(exact - Math.Round(exact)) < 1e-3 || Math.Abs(exact) > 990) continue;
                long spec = gamma > 0 ? (long)Math.Ceiling(exact) : (long)Math.Floor(exact);
                Assert.Equal(spec, th[l - 1]);
            }
        }, iter: 300);
    }

    [Fact]
    public void Score_fold_keeps_the_argmax_of_the_float_head()
    {
        Gen.Select(Gen.Double[0.001, 2], Gen.Int[2, 12], Gen.Int[0, 1]).Sample(t =>
        {
            var (scale, classes, firstLayer) = t;
            var rng = new Random(classes * 31 + firstLayer);
            var shift = Enumerable.Range(0, classes).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
            int alpha = firstLayer == 1 ? 2 : 1;
            var delta = Enumerable.Range(0, classes).Select(_ => firstLayer == 1 ? -255L * (2 * rng.Next(50) - 50) : 0L).ToArray();
            long bound = 1000;
            var (offsets, shifts) = ScoreFold.Fold((float)scale, shift, alpha, delta, bound);
            Assert.All(shifts, s => Assert.InRange(s, 0, 16));
            for (int trial = 0; trial < 200; trial++)
            {
                var acc = Enumerable.Range(0, classes).Select(_ => (long)rng.Next(-1000, 1001)).ToArray();
                var y = acc.Select((v, c) => MathF.FusedMultiplyAdd(alpha * v + delta[c], (float)scale, shift[c])).ToArray();
                var score = acc.Select((v, c) => (int)((v << shifts[c]) + offsets[c])).ToArray();
                var sorted = y.OrderDescending().ToArray();
                if (sorted[0] - sorted[1] < 1e-3 * scale) continue;     // a near-tie: either answer is right
                Assert.Equal(Network.ArgMax(y), Prediction.ArgMax(score));
            }
        }, iter: 200);
    }
}
