using ILGPU;

namespace Qnn.Runtime.Gpu.Kernels;

/// <summary>
/// Version 3: the tiled GEMM of version 2 with the threshold-and-pack epilogue fused in, so a layer's output
/// leaves the kernel already bit-packed (32 channels per word, k planes) and the accumulators never reach global
/// memory. A tile covers 4·X filters, a whole number of output words per row, so its words belong to no other
/// group; the group ORs its bits together in shared memory and writes each word once. Layers with a fused
/// max-pool pool accumulators across rows of other tiles, so they use version 2 plus the pooling epilogue.
/// </summary>
public static class XnorGemm3
{
    public const int MaxOutBits = 8;
    private const int MaxWordsPerTileRow = XnorTile.MaxTileFilters / 32;
    private const int PackedWords = XnorTile.MaxTileRows * MaxOutBits * MaxWordsPerTileRow;

    /// <summary>Grid as <see cref="XnorGemm2"/>. output: the SPEC 1.2 tensor of the batch.</summary>
    public static void Kernel(ArrayView<ulong> a, ArrayView<ulong> w, ArrayView<int> wpop, ArrayView<int> thresholds,
        ArrayView<uint> flip, ArrayView<uint> output, GemmShape g, ThresholdShape t)
    {
        var aTile = SharedMemory.Allocate<ulong>(XnorTile.SharedWords);
        var wTile = SharedMemory.Allocate<ulong>(XnorTile.SharedWords);
        var packed = SharedMemory.Allocate<uint>(PackedWords);
        int gx = Group.DimX, gy = Group.DimY, threads = gx * gy;
        int tid = Group.IdxY * gx + Group.IdxX;
        int tileRows = 4 * gy, wordsPerRow = 4 * gx / 32;
        for (int e = tid; e < PackedWords; e += threads) packed[e] = 0;

        int row0 = Grid.IdxX * tileRows, f0 = Grid.IdxY * 4 * gx;
        Acc4x4 v = XnorTile.Compute(a, w, wpop, g, aTile, wTile, row0, f0);

        int r = Group.IdxY, f = Group.IdxX;
        Emit(packed, v.V00, row0, r, f0, f, g, t, thresholds, flip); Emit(packed, v.V01, row0, r, f0, f + gx, g, t, thresholds, flip);
        Emit(packed, v.V02, row0, r, f0, f + 2 * gx, g, t, thresholds, flip); Emit(packed, v.V03, row0, r, f0, f + 3 * gx, g, t, thresholds, flip);
        r += gy;
        Emit(packed, v.V10, row0, r, f0, f, g, t, thresholds, flip); Emit(packed, v.V11, row0, r, f0, f + gx, g, t, thresholds, flip);
        Emit(packed, v.V12, row0, r, f0, f + 2 * gx, g, t, thresholds, flip); Emit(packed, v.V13, row0, r, f0, f + 3 * gx, g, t, thresholds, flip);
        r += gy;
        Emit(packed, v.V20, row0, r, f0, f, g, t, thresholds, flip); Emit(packed, v.V21, row0, r, f0, f + gx, g, t, thresholds, flip);
        Emit(packed, v.V22, row0, r, f0, f + 2 * gx, g, t, thresholds, flip); Emit(packed, v.V23, row0, r, f0, f + 3 * gx, g, t, thresholds, flip);
        r += gy;
        Emit(packed, v.V30, row0, r, f0, f, g, t, thresholds, flip); Emit(packed, v.V31, row0, r, f0, f + gx, g, t, thresholds, flip);
        Emit(packed, v.V32, row0, r, f0, f + 2 * gx, g, t, thresholds, flip); Emit(packed, v.V33, row0, r, f0, f + 3 * gx, g, t, thresholds, flip);
        Group.Barrier();

        int perRow = t.OutBits * wordsPerRow;
        for (int e = tid; e < tileRows * perRow; e += threads)
        {
            int rr = e / perRow, rest = e % perRow, j = rest / wordsPerRow, wd = rest % wordsPerRow;
            int row = row0 + rr, word = (f0 >> 5) + wd;
            if (row < g.Rows && word < t.OutCW)
                output[(row * t.OutBits + j) * t.OutCW + word] = packed[(rr * MaxOutBits + j) * MaxWordsPerTileRow + wd];
        }
    }

    private static void Emit(ArrayView<uint> packed, int acc, int row0, int r, int f0, int f, GemmShape g, ThresholdShape t,
        ArrayView<int> thresholds, ArrayView<uint> flip)
    {
        int filter = f0 + f;
        if (row0 + r >= g.Rows || filter >= g.Filters) return;
        int q = Thresholds.Level(acc, filter, thresholds, flip, t.Levels);
        for (int j = 0; j < t.OutBits; j++)
            if (((q >> j) & 1) != 0)
                Atomic.Or(ref packed[(r * MaxOutBits + j) * MaxWordsPerTileRow + (f >> 5)], 1u << (filter & 31));
    }
}
