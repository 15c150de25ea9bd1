using Qnn.Format;

namespace Qnn.Verification;

/// <summary>
/// One implementation of the spec's integer semantics that can be compared with the reference: runs images and
/// gives their class scores and, when asked, every layer's output words.
/// </summary>
public abstract class IntegerRuntime : IDisposable
{
    public abstract string Name { get; }

    /// <summary>
    /// Runs <paramref name="count"/> images of H·W·C bytes; fills <paramref name="scores"/>[n · classes + c] and, when
    /// <paramref name="layers"/> is not null, layers[l][n · words(l) + w] with the LayerObserver words of layer l
    /// (SPEC 1.2 words; for the last layer the scores cast to uint).
    /// </summary>
    public abstract void Run(ReadOnlySpan<byte> images, int count, int[] scores, uint[][]? layers);

    public virtual void Dispose() => GC.SuppressFinalize(this);

    /// <summary>Words of layer <paramref name="l"/>'s output per sample, as LayerObserver reports them.</summary>
    public static int LayerWords(QnnModel m, int l) => l == m.Layers.Length - 1 ? m.ClassCount : m.Layers[l].OutputWords;
}
