namespace Qnn.Runtime.Edge.Fast;

/// <summary>The buffers one inference needs; one per thread in a batch, reused from sample to sample.</summary>
internal sealed class Workspace
{
    public readonly uint[] BufferA;
    public readonly uint[] BufferB;
    public readonly ulong[] Patch;
    public readonly int[] Accumulators;
    /// <summary>The accumulators of one output pixel, every filter of a layer (padded), before they are delivered.</summary>
    public readonly int[] PixelAcc;
    /// <summary>The first layer's lit pixels and their taps in one window (FirstConv); empty when there is none.</summary>
    public readonly int[] FirstValues, FirstTaps;

    public Workspace(MemoryPlan plan, int patchWords, int accumulators, int pixelFilters, int firstTaps)
    {
        PixelAcc = new int[pixelFilters];
        FirstValues = new int[firstTaps];
        FirstTaps = new int[firstTaps];
        BufferA = new uint[plan.BufferAWords];
        BufferB = new uint[plan.BufferBWords];
        Patch = new ulong[patchWords + 1];
        Accumulators = new int[accumulators];
    }
}
