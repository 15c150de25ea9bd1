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
    /// <summary>The bit patches of up to <see cref="Rows"/> rows (pixels or samples), each <see cref="PatchStride"/> words.</summary>
    public readonly ulong[] Patch;
    /// <summary>
    /// Rows (output pixels) of a conv layer's patch GEMM a call: 16 (HarleySealRows runs each row alone, so more rows
    /// only spread a block's weight reads from L2 over more work), or one pool window where windows are larger.
    /// Dense layers take <see cref="PopcountBlock.RowBlock"/>.
    /// </summary>
    public const int PatchRows = 16;
    /// <summary>The rows the patch and sum buffers hold: at least <see cref="PatchRows"/>, <see cref="PopcountBlock.RowBlock"/> and the largest pool window.</summary>
    public readonly int Rows;
    public readonly int PatchStride;
    /// <summary>The accumulators of up to <see cref="Rows"/> rows, every filter of a layer (padded, plus one vector) each, before they are delivered.</summary>
    public readonly int[] PixelAcc;
    /// <summary>The output bytes of up to <see cref="Rows"/> rows from <see cref="PopcountBlock.RowsToBits{TOp}"/>, <see cref="BitsStride"/> each (a byte per block of 8 filters).</summary>
    public readonly byte[] Bits;
    public readonly int BitsStride;
    /// <summary>One row's accumulators of every filter, copied from the unique filters' (<see cref="FilterSharing"/>).</summary>
    public readonly int[] SharedAcc;
    /// <summary>The first layer's lit pixels and their taps in one window (FirstConv).</summary>
    public readonly int[] FirstValues, FirstTaps;
    /// <summary>The first layer's padded image levels (FirstConv.Levels), and one row of its accumulators when unpooled.</summary>
    public readonly short[] FirstLevels;
    public readonly int[] FirstRow;

    public Workspace(MemoryPlan plan, int patchWords, int accumulators, int pixelFilters, int firstTaps, int firstLevels, int firstRow, int patchRows)
    {
        // The dense layers' groups of RowBlock samples use the same buffers.
        Rows = Math.Max(Math.Max(patchRows, PatchRows), PopcountBlock.RowBlock);
        FirstLevels = new short[firstLevels];
        FirstRow = new int[firstRow];
        const int rows = PopcountBlock.RowBlock;
        PixelAcc = new int[Rows * (pixelFilters + 16)];
        BitsStride = pixelFilters / PopcountBlock.BlockFilters;
        Bits = new byte[Rows * BitsStride];
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
        Patch = new ulong[Rows * PatchStride];
    }
}
