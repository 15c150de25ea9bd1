namespace Qnn.Runtime.Edge.Fast;

/// <summary>
/// The buffers one inference of up to <see cref="PopcountBlock.RowBlock"/> samples run together needs; one per thread
/// in a batch, reused from group to group.
/// </summary>
internal sealed class Workspace
{
    /// <summary>Per sample of a group: the activations in and out of a layer, and a pooled layer's accumulators.</summary>
    public readonly uint[][] BufferA, BufferB;
    public readonly int[][] Accumulators;
    /// <summary>The bit patches of up to 4 rows (pixels or samples), each <see cref="PatchStride"/> words.</summary>
    public readonly ulong[] Patch;
    public readonly int PatchStride;
    /// <summary>The accumulators of up to 4 rows, every filter of a layer (padded) each, before they are delivered.</summary>
    public readonly int[] PixelAcc;
    /// <summary>The output bytes of up to 4 rows from <see cref="PopcountBlock.RowsToBits{TOp}"/>, <see cref="BitsStride"/> each (a byte per block of 8 filters).</summary>
    public readonly byte[] Bits;
    public readonly int BitsStride;
    /// <summary>One row's accumulators of every filter, copied from the unique filters' (<see cref="FilterSharing"/>).</summary>
    public readonly int[] SharedAcc;
    /// <summary>The first layer's lit pixels and their taps in one window (FirstConv).</summary>
    public readonly int[] FirstValues, FirstTaps;
    /// <summary>The first layer's padded image levels (FirstConv.Levels), and one row of its accumulators when unpooled.</summary>
    public readonly short[] FirstLevels;
    public readonly int[] FirstRow;

    public Workspace(MemoryPlan plan, int patchWords, int accumulators, int pixelFilters, int firstTaps, int firstLevels, int firstRow)
    {
        FirstLevels = new short[firstLevels];
        FirstRow = new int[firstRow];
        const int rows = PopcountBlock.RowBlock;
        PixelAcc = new int[rows * pixelFilters];
        BitsStride = pixelFilters / PopcountBlock.BlockFilters;
        Bits = new byte[rows * BitsStride];
        SharedAcc = new int[pixelFilters];
        FirstValues = new int[firstTaps];
        FirstTaps = new int[firstTaps];
        BufferA = new uint[rows][];
        BufferB = new uint[rows][];
        Accumulators = new int[rows][];
        for (int s = 0; s < rows; s++)
        {
            BufferA[s] = new uint[plan.BufferAWords];
            BufferB[s] = new uint[plan.BufferBWords];
            Accumulators[s] = new int[accumulators];
        }
        // BitPatch.Build clears and may write one word past a patch.
        PatchStride = patchWords + 1;
        Patch = new ulong[rows * PatchStride];
    }
}
