using Qnn.Trainer.Backends;
using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.Export;

/// <summary>
/// Folds the inference batch norm and the k-bit quantizer of one channel into integer thresholds
/// (format/SPEC.md 1.6). The trainer's value before the batch norm is x = alpha · acc + delta (alpha = 1 for hidden
/// layers; alpha = 2, delta = −255 · Σw for the first layer, which sees the centered pixels 2p − 255 where the
/// runtime sees p), and its level is <see cref="Level"/>. Thresholds are found by binary search on that very
/// function over the accumulator's range, so the integer model gives exactly the eval graph's level for every
/// accumulator — ties, zero and negative scales included — rather than a double-precision estimate of it.
/// </summary>
public static class ThresholdFold
{
    /// <summary>The eval graph's level: Levels.Index(fma(x, scale, shift)) with x = alpha · acc + delta in float32.</summary>
    public static int Level(long acc, int alpha, long delta, float scale, float shift, int bits,
        ActivationQuantizer quantizer = ActivationQuantizer.Odd) =>
        ActivationQuantizers.Index(quantizer, MathF.FusedMultiplyAdd((float)(alpha * acc + delta), scale, shift), bits);

    /// <summary>
    /// The thresholds t_1 … t_L and the flip bit of one channel whose accumulator lies in [−bound, bound].
    /// </summary>
    public static (int[] Thresholds, bool Flip) Fold(float scale, float shift, int bits, int alpha, long delta, long bound,
        ActivationQuantizer quantizer = ActivationQuantizer.Odd)
    {
        int levels = Levels.Max(bits);
        var t = new int[levels];
        if (!(scale > 0f) && !(scale < 0f))
        {
            // Scale 0 (or NaN): a constant level, the eval graph's fma(x, scale, shift) for any x (NaN is level 0);
            // SPEC 1.6 writes it with MinValue (reached) and MaxValue (never).
            int q = ActivationQuantizers.Index(quantizer, MathF.FusedMultiplyAdd(1f, scale, shift), bits);
            for (int l = 1; l <= levels; l++) t[l - 1] = l <= q ? int.MinValue : int.MaxValue;
            return (t, false);
        }
        bool flip = scale < 0f;
        return (Search(acc => Level(acc, alpha, delta, scale, shift, bits, quantizer), levels, bound, flip), flip);
    }

    /// <summary>
    /// The thresholds t_1 … t_levels of any level function of an integer in [−bound, bound] that is non-decreasing
    /// (or, when <paramref name="flip"/>, non-increasing): for each l the smallest integer that reaches level l (the
    /// largest, flipped), i32.MinValue when every integer reaches it and i32.MaxValue when none does, so that the
    /// level SPEC 1.6 computes from them is <paramref name="level"/> on the whole range. Also the sequence layers'
    /// gates, cells and outputs (SPEC 1.10, <see cref="SequenceFold"/>).
    /// </summary>
    public static int[] Search(Func<long, int> level, int levels, long bound, bool flip)
    {
        var t = new int[levels];
        for (int l = 1; l <= levels; l++)
        {
            bool Reaches(long acc) => level(acc) >= l;
            if (!flip)
            {
                // Level is non-decreasing in acc: the smallest acc that reaches l.
                if (Reaches(-bound)) t[l - 1] = int.MinValue;
                else if (!Reaches(bound)) t[l - 1] = int.MaxValue;
                else
                {
                    long lo = -bound, hi = bound;     // Reaches(lo) false, Reaches(hi) true
                    while (hi - lo > 1)
                    {
                        long mid = lo + (hi - lo) / 2;
                        if (Reaches(mid)) hi = mid; else lo = mid;
                    }
                    t[l - 1] = (int)hi;
                }
            }
            else
            {
                // Level is non-increasing in acc: the largest acc that still reaches l (q = #{ l : acc ≤ t_l }).
                if (Reaches(bound)) t[l - 1] = int.MaxValue;
                else if (!Reaches(-bound)) t[l - 1] = int.MinValue;
                else
                {
                    long lo = -bound, hi = bound;     // Reaches(lo) true, Reaches(hi) false
                    while (hi - lo > 1)
                    {
                        long mid = lo + (hi - lo) / 2;
                        if (Reaches(mid)) lo = mid; else hi = mid;
                    }
                    t[l - 1] = (int)lo;
                }
            }
        }
        return t;
    }

    /// <summary>The level the runtime computes from thresholds (SPEC 1.6), for tests and the integer evaluation.</summary>
    public static int Apply(long acc, ReadOnlySpan<int> thresholds, bool flip)
    {
        int q = 0;
        foreach (int t in thresholds)
            if (flip ? acc <= t : acc >= t) q++;
        return q;
    }
}
