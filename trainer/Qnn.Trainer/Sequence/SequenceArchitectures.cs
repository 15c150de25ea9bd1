using Qnn.Trainer.Training;

namespace Qnn.Trainer.Sequence;

/// <summary>The language-model architectures of `qnn train --arch`: lstm and gru, with their defaults.</summary>
public static class SequenceArchitectures
{
    public static readonly IReadOnlyDictionary<string, (RecurrentCell Cell, string Description)> All =
        new Dictionary<string, (RecurrentCell, string)>(StringComparer.OrdinalIgnoreCase)
        {
            ["lstm"] = (RecurrentCell.Lstm, "word-level language model: embedding, --layers quantized LSTM layers, dense output over the vocabulary"),
            ["gru"] = (RecurrentCell.Gru, "the same with GRU layers"),
        };

    public const int DefaultHidden = 256;
    public const int DefaultBatch = 32;
    public const float DefaultLr = 0.002f;
    public const float DefaultLrEnd = 0.0002f;

    public static bool IsSequence(string arch) => All.ContainsKey(arch);

    /// <summary>The options' gate and cell bits with their defaults filled in: gates k bits, cells k + 1 (at most 8).</summary>
    public static SequenceBits Bits(TrainOptions o) => o.WeightBits >= 32
        ? new SequenceBits(32, 32, 32, 32)
        : new SequenceBits(o.WeightBits, o.ActBits, o.GateBits > 0 ? o.GateBits : o.ActBits, o.CellBits > 0 ? o.CellBits : Math.Min(8, o.ActBits + 1));

    public static LmShape Shape(TrainOptions o, int vocabulary)
    {
        int hidden = o.Hidden > 0 ? o.Hidden : DefaultHidden;
        return new LmShape(All[o.Arch].Cell, vocabulary, o.Embed > 0 ? o.Embed : hidden, hidden, o.Layers, Bits(o), o.Dropout);
    }
}
