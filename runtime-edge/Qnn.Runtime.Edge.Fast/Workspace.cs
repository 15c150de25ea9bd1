namespace Qnn.Runtime.Edge.Fast;

/// <summary>The buffers one inference needs; one per thread in a batch, reused from sample to sample.</summary>
internal sealed class Workspace
{
    public readonly uint[] BufferA;
    public readonly uint[] BufferB;
    public readonly ulong[] Patch;
    public readonly int[] Accumulators;
    public readonly int[] Counts = new int[XnorGemm.BlockFilters];
    public readonly int[] Sums = new int[XnorGemm.BlockFilters];
    /// <summary>The accumulators of one block of filters, before their levels are written four at a time.</summary>
    public readonly int[] BlockAcc = new int[XnorGemm.BlockFilters];

    /// <summary>The first convolution's accumulators of one window (FirstConv); empty when there is none.</summary>
    public readonly int[] FirstAcc;
    public readonly int[] FirstValues, FirstTaps;

    public Workspace(MemoryPlan plan, int patchWords, int accumulators, int firstFilters, int firstTaps)
    {
        FirstAcc = new int[firstFilters];
        FirstValues = new int[firstTaps];
        FirstTaps = new int[firstTaps];
        BufferA = new uint[plan.BufferAWords];
        BufferB = new uint[plan.BufferBWords];
        Patch = new ulong[patchWords + 1];
        Accumulators = new int[accumulators];
    }
}
