using System.Diagnostics;

namespace Qnn.Benchmarks;

/// <summary>Median and fastest time of one call, over enough calls to fill a time budget.</summary>
public sealed record Timing(double MedianMs, double MinMs, int Runs)
{
    /// <summary>
    /// Runs <paramref name="call"/> once to warm up (JIT, first-touch pages, ONNX Runtime's lazy setup), then at least
    /// <paramref name="minRuns"/> times and until <paramref name="budgetSeconds"/> have passed. The median resists the
    /// other processes that share this machine's cores; the minimum is the best the machine did.
    /// </summary>
    public static Timing Measure(Action call, int minRuns = 5, double budgetSeconds = 1.0, int maxRuns = 100_000)
    {
        call();
        var times = new List<double>();
        long start = Stopwatch.GetTimestamp();
        while (times.Count < maxRuns && (times.Count < minRuns || Stopwatch.GetElapsedTime(start).TotalSeconds < budgetSeconds))
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        return Of(times);
    }

    /// <summary>
    /// Two calls timed in turns (first, second, first, …) after one warm-up each, at least <paramref name="minRuns"/>
    /// times each and until <paramref name="budgetSeconds"/> (both together) have passed, so that a load that comes and
    /// goes on this shared machine falls on both alike.
    /// </summary>
    public static (Timing First, Timing Second) Alternate(Action first, Action second, double budgetSeconds = 2.0, int minRuns = 5)
    {
        first();
        second();
        var a = new List<double>();
        var b = new List<double>();
        long start = Stopwatch.GetTimestamp();
        while (a.Count < minRuns || Stopwatch.GetElapsedTime(start).TotalSeconds < budgetSeconds)
        {
            long t0 = Stopwatch.GetTimestamp();
            first();
            long t1 = Stopwatch.GetTimestamp();
            second();
            a.Add(Stopwatch.GetElapsedTime(t0, t1).TotalMilliseconds);
            b.Add(Stopwatch.GetElapsedTime(t1).TotalMilliseconds);
        }
        return (Of(a), Of(b));
    }

    private static Timing Of(List<double> times)
    {
        times.Sort();
        return new Timing(times[times.Count / 2], times[0], times.Count);
    }

    /// <summary>
    /// Seconds per run of a device step (which must wait for the device), after one warm-up run that compiles the
    /// kernels and touches the buffers: the mean over at least <paramref name="minSeconds"/>, as `qnn bench gpu`
    /// has always reported it (runtime-gpu/RESULTS.md).
    /// </summary>
    public static (double Seconds, int Runs) OfDeviceStep(Action step, double minSeconds)
    {
        step();
        int runs = 0;
        long start = Stopwatch.GetTimestamp();
        do { step(); runs++; } while (Stopwatch.GetElapsedTime(start).TotalSeconds < minSeconds);
        return (Stopwatch.GetElapsedTime(start).TotalSeconds / runs, runs);
    }
}
