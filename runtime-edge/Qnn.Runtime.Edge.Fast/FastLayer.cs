namespace Qnn.Runtime.Edge.Fast;

/// <summary>
/// A Dense or Conv2D layer prepared for the fast path: weights repacked into the bit-patch order of
/// <see cref="BitPatch"/> and interleaved by blocks of <see cref="XnorGemm.BlockFilters"/> filters,
/// [block][weight plane][word][filter in block], so that one pass over a patch feeds 8 filters from one
/// sequential stream (register blocking). Filters past F in the last block are zero and ignored.
/// </summary>
public sealed class FastLayer
{
    public readonly LayerSpec Spec;
    public readonly LayerGeometry Geometry;
    /// <summary>64-bit words of one plane of a patch: ceil(KH·KW·C / 64).</summary>
    public readonly int PatchWords;
    public readonly int Blocks;
    public readonly ulong[] Weights;
    /// <summary>Words of one block's weight plane: PatchWords · 8.</summary>
    public readonly int BlockPlaneWords;

    /// <summary>Thresholds [c][l], flip per channel, score shifts and offsets, unpacked for the inner loop.</summary>
    public readonly int[] Thresholds = [];
    public readonly bool[] Flipped = [];
    public readonly int[] Shifts = [];
    public readonly int[] Offsets = [];

    public FastLayer(LayerSpec l)
    {
        Spec = l;
        Geometry = new LayerGeometry(l);
        if (l.Kind == LayerKind.MaxPool2D)
        {
            Weights = [];
            return;
        }
        if (l.Output == OutputKind.Thresholds)
        {
            Thresholds = l.Thresholds ?? throw new ArgumentException("the fast path needs the model's layer data (ModelReader.Read with layers)");
            Flipped = Enumerable.Range(0, l.OutC).Select(l.IsFlipped).ToArray();
        }
        else
        {
            Shifts = l.Shifts ?? throw new ArgumentException("the fast path needs the model's layer data (ModelReader.Read with layers)");
            Offsets = l.Offsets!;
        }
        long bits = (long)l.KernelH * l.KernelW * l.InC;
        PatchWords = (int)((bits + 63) >> 6);
        Blocks = (l.OutC + XnorGemm.BlockFilters - 1) / XnorGemm.BlockFilters;
        BlockPlaneWords = PatchWords * XnorGemm.BlockFilters;
        Weights = new ulong[(long)Blocks * l.WeightBits * BlockPlaneWords];
        var source = l.Weights ?? throw new ArgumentException("the fast path needs the model's layer data (ModelReader.Read with layers)");
        var row = new ulong[PatchWords + 1];
        int cw = Geometry.InChannelWords;
        int at = 0;
        for (int f = 0; f < l.OutC; f++)
        for (int i = 0; i < l.WeightBits; i++)
        {
            Array.Clear(row);
            long position = 0;
            for (int p = 0; p < l.KernelH * l.KernelW; p++, position += l.InC)
                for (int w = 0; w < cw; w++)
                    BitPatch.Append(row, position + (w << 5), source[at++]);
            int block = f / XnorGemm.BlockFilters, lane = f % XnorGemm.BlockFilters;
            long start = ((long)block * l.WeightBits + i) * BlockPlaneWords + lane;
            for (int w = 0; w < PatchWords; w++) Weights[start + (long)w * XnorGemm.BlockFilters] = row[w];
        }
    }

    /// <summary>The interleaved weights of filter block <paramref name="block"/>: its m planes of <see cref="BlockPlaneWords"/> words.</summary>
    public ReadOnlySpan<ulong> BlockWeights(int block) =>
        Weights.AsSpan(block * Spec.WeightBits * BlockPlaneWords, Spec.WeightBits * BlockPlaneWords);
}
