using System.Diagnostics;

namespace Qnn.Runtime.Gpu.Bench;

/// <summary>Repeats a synchronous device step after one warm-up run until enough time has passed.</summary>
public static class Timing
{
    /// <summary>Seconds per run of <paramref name="step"/> (which must wait for the device), averaged over at least <paramref name="minSeconds"/>.</summary>
    public static (double Seconds, int Runs) Measure(Action step, double minSeconds)
    {
        step(); // warm-up: compiles kernels, touches buffers
        int runs = 0;
        var clock = Stopwatch.StartNew();
        do { step(); runs++; } while (clock.Elapsed.TotalSeconds < minSeconds);
        return (clock.Elapsed.TotalSeconds / runs, runs);
    }
}
