using Qnn.Format;

namespace Qnn.Trainer.Export;

/// <summary>
/// What the export made of one block: the layer record with its data, and how the trainer's pre-batch-norm value
/// maps to the runtime's accumulator (x = Alpha · acc + Delta[c], times −1 when the head's weights were negated).
/// </summary>
public sealed record FoldedBlock(ExportBlock Block, LayerSpec Spec, int Alpha, long[] Delta, bool Negated)
{
    /// <summary>The runtime's accumulator of channel c from the trainer's (exact, integer) pre-batch-norm value.</summary>
    public long Accumulator(float x, int c)
    {
        long v = (long)x;
        if (Negated) v = -v;
        return (v - Delta[c]) / Alpha;
    }
}
