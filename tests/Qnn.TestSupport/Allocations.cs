namespace Qnn.TestSupport;

/// <summary>
/// Managed bytes that an action allocates on the calling thread. The runtime itself now and then allocates on a
/// test's thread (tiered compilation, type loading: a few KiB, once); the code under test allocates on every call.
/// So the measure is the least of several attempts: a one-off allocation by the runtime shows in one attempt, an
/// allocation by the code in all of them.
/// </summary>
public static class Allocations
{
    public static long Least(Action action, int attempts = 5)
    {
        long least = long.MaxValue;
        for (int i = 0; i < attempts && least > 0; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            action();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }
}
