using Qnn.Format;
using Qnn.Trainer.Quantization;
using Qnn.Trainer.Sequence;

namespace Qnn.Trainer.Export;

/// <summary>
/// Folds a recurrent layer's level functions (<see cref="SequenceLevels"/>: the gates' sigmoid or tanh of
/// fma(acc, scale, bias) and their quantizers, the cell's, tanh(c)'s and the output's re-quantization) into the
/// thresholds of SPEC 1.10, each found by <see cref="ThresholdFold.Search"/> on the very float32 function the
/// training graph evaluates, over the integer's whole range, so the integer layer gives the graph's level for every
/// integer it can meet. A gate channel whose scale is negative is non-increasing in acc: it is flipped.
/// </summary>
public static class SequenceFold
{
    /// <summary>Gate thresholds (section order), flip words and state thresholds of <paramref name="layer"/>.</summary>
    public static (int[] Thresholds, uint[] Flip, int[] State) Fold(RecurrentLayer layer, SequenceBits bits)
    {
        int h = layer.H, f = layer.F;
        var scale = SequenceParameters.Data(layer.Scale);
        var bias = SequenceParameters.Data(layer.Bias);
        int m = Levels.Max(bits.Weight), l = Levels.Max(bits.Act), g = Levels.Max(bits.Gate), s = Levels.Max(bits.Cell);
        long bound = (long)(layer.X + h) * m * l;
        var thresholds = new List<int>();
        var flip = new uint[(f + 31) / 32];
        for (int ch = 0; ch < f; ch++)
        {
            bool candidate = ch / h == 2;
            float a = scale[ch], b = bias[ch];
            bool flipped = a < 0f;
            if (flipped) flip[ch >> 5] |= 1u << (ch & 31);
            int[] t = candidate
                ? ThresholdFold.Search(acc => SequenceLevels.Candidate(acc, a, b, bits.Act), l,
                    layer.Cell == RecurrentCell.Gru ? bound * g : bound, flipped)
                : ThresholdFold.Search(acc => SequenceLevels.Gate(acc, a, b, bits.Gate), g, bound, flipped);
            thresholds.AddRange(t);
        }
        long hiddenBound = 2L * g * l;
        var hidden = ThresholdFold.Search(p => SequenceLevels.Hidden(p, bits.Gate, bits.Act), l, hiddenBound, false);
        int[] state = layer.Cell == RecurrentCell.Lstm
            ? [.. ThresholdFold.Search(p => SequenceLevels.Cell(p, bits.Gate, bits.Cell), s, (long)g * (s + l), false),
               .. ThresholdFold.Search(c => SequenceLevels.TanhOfCell(c, bits.Act), l, s, false), .. hidden]
            : hidden;
        return (thresholds.ToArray(), flip, state);
    }
}
