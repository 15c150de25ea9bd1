using Qnn.Format;

namespace Qnn.Trainer.Export;

/// <summary>
/// Folds the score head — a binary dense layer and a batch norm with one shared scale a and per-class shifts b_c,
/// y_c = a · x_c + b_c — into integer scores (acc_c &lt;&lt; s) + o_c (format/SPEC.md 1.7). With a &gt; 0 (a negative
/// scale is made positive by negating the weights, which symmetric levels allow), argmax y_c = argmax (x_c + b_c / a),
/// and x_c = alpha · acc_c + delta_c, so o_c = round(2^s · (delta_c + b_c / a) / alpha), with the largest shift s ≤ 16
/// that keeps every score inside the SPEC's limits: the offsets keep 16 fractional bits where the range allows.
/// </summary>
public static class ScoreFold
{
    public static (int[] Offsets, int[] Shifts) Fold(float scale, ReadOnlySpan<float> shift, int alpha, ReadOnlySpan<long> delta, long bound)
    {
        if (!(scale > 0f)) throw new ArgumentException($"score head scale {scale} is not positive (negate the weights first)");
        int classes = shift.Length;
        var exact = new double[classes];
        for (int c = 0; c < classes; c++) exact[c] = (delta[c] + (double)shift[c] / scale) / alpha;
        for (int s = FormatConstants.MaxShift; s >= 0; s--)
        {
            if ((bound << s) >= FormatConstants.MaxAccumulatorBound) continue;
            var offsets = new int[classes];
            bool fits = true;
            for (int c = 0; c < classes && fits; c++)
            {
                double o = Math.Round(exact[c] * (1L << s), MidpointRounding.ToEven);
                if (!(Math.Abs(o) < FormatConstants.MaxAccumulatorBound)) fits = false;
                else offsets[c] = (int)o;
            }
            if (fits) return (offsets, Enumerable.Repeat(s, classes).ToArray());
        }
        throw new ArgumentException($"score head offsets do not fit below {FormatConstants.MaxAccumulatorBound} (SPEC 1.7) even without a shift");
    }
}
