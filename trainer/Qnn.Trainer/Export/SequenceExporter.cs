using System.Globalization;
using System.Text;
using Qnn.Format;
using Qnn.Trainer.Quantization;
using Qnn.Trainer.Sequence;

namespace Qnn.Trainer.Export;

/// <summary>
/// A trained <see cref="LanguageModel"/> as a sequence model of SPEC 1.10: the embedding's rows, each recurrent
/// layer's W and U bit-planes with its folded thresholds (<see cref="SequenceFold"/>), the output Dense with integer
/// scores acc + offset_c (shift 0) and the <c>score_scale</c> metadata, so score_scale · score is the graph's logit
/// bit for bit. A negative output scale is made positive by negating the output weights and offsets (exact on odd
/// levels: q → M − q). The vocabulary becomes the labels.
/// </summary>
public static class SequenceExporter
{
    public const int MaxLabelBytes = 63;

    public static QnnModel Export(LanguageModel model, IReadOnlyList<string> vocabulary)
    {
        var bits = model.Bits;
        if (bits.Float)
            throw new InvalidOperationException("the 32-bit float baseline is not exportable: the format holds quantized networks (train with --weight-bits and --act-bits 1 to 4)");
        var shape = model.Shape;
        int k = bits.Act, m = bits.Weight;
        var layers = new List<LayerSpec>();
        var embedding = LayerFactory.Embedding(shape.Vocab, shape.Embed, k);
        embedding.Weights = WeightPacking.Pack(LevelIndices(SequenceParameters.Data(model.Embedding), k), shape.Vocab, 1, 1, shape.Embed, k);
        layers.Add(embedding);
        foreach (var r in model.Layers)
        {
            var spec = r.Cell == RecurrentCell.Lstm
                ? LayerFactory.Lstm(r.X, r.H, m, k, bits.Gate, bits.Cell)
                : LayerFactory.Gru(r.X, r.H, m, k, bits.Gate);
            var w = WeightPacking.Pack(LevelIndices(SequenceParameters.Data(r.W), m), r.F, 1, 1, r.X, m);
            var u = WeightPacking.Pack(LevelIndices(SequenceParameters.Data(r.U), m), r.F, 1, 1, r.H, m);
            spec.Weights = [.. w, .. u];
            (spec.Thresholds, spec.Flip, spec.StateThresholds) = SequenceFold.Fold(r, bits);
            layers.Add(spec);
        }
        float scale = SequenceParameters.Data(model.OutScale)[0];
        bool negate = scale < 0f;
        var outLevels = LevelIndices(SequenceParameters.Data(model.OutW), m);
        int top = Levels.Max(m);
        if (negate)
            for (int i = 0; i < outLevels.Length; i++) outLevels[i] = top - outLevels[i];
        var dense = LayerFactory.Dense(1, 1, shape.Hidden, shape.Vocab, m, k, true, OutputKind.Scores, 0);
        dense.Weights = WeightPacking.Pack(outLevels, shape.Vocab, 1, 1, shape.Hidden, m);
        dense.Offsets = Enumerable.Range(0, shape.Vocab).Select(c => (int)(negate ? -model.Offset(c) : model.Offset(c))).ToArray();
        dense.Shifts = new int[shape.Vocab];
        layers.Add(dense);
        return new QnnModel
        {
            InputHeight = 1, InputWidth = 1, InputChannels = shape.Vocab, InputBits = 1, ClassCount = shape.Vocab,
            Layers = layers.ToArray(), Labels = vocabulary.Select(Label).ToArray(),
            MetadataKeys = ["score_scale"], MetadataValues = [ScoreScale(negate ? -scale : scale)],
        };
    }

    /// <summary>The score scale as metadata: a float32 with a dot, round-trip precision (float.Parse gives it back exactly).</summary>
    public static string ScoreScale(float scale) => scale.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Level indices q = (v + 2^b − 1) / 2 of latent values quantized to b bits.</summary>
    private static int[] LevelIndices(float[] latent, int bits)
    {
        var q = new int[latent.Length];
        for (int i = 0; i < q.Length; i++) q[i] = Levels.Index(latent[i], bits);
        return q;
    }

    /// <summary>A token as a label (SPEC 2.5: at most 63 UTF-8 bytes): a longer token is cut after its last whole character that fits.</summary>
    public static string Label(string token)
    {
        if (Encoding.UTF8.GetByteCount(token) <= MaxLabelBytes) return token;
        var sb = new StringBuilder();
        int bytes = 0;
        foreach (var rune in token.EnumerateRunes())
        {
            if (bytes + rune.Utf8SequenceLength > MaxLabelBytes) break;
            sb.Append(rune.ToString());
            bytes += rune.Utf8SequenceLength;
        }
        return sb.ToString();
    }
}
