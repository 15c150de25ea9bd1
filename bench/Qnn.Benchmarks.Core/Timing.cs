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
    /// Calls timed in turns: <paramref name="turns"/> times each call in order, each for its share of
    /// <paramref name="budgetSeconds"/> (at least one timed run), so that a load that comes and goes on this shared
    /// machine falls on all alike. The first run of every turn is not timed: it pays for the others' threads, which
    /// may still be spinning on the cores (ONNX Runtime's pool spins after each run) or asleep (.NET's pool).
    /// </summary>
    public static Timing[] Alternate(double budgetSeconds, int turns, params Action[] calls)
    {
        var times = calls.Select(_ => new List<double>()).ToArray();
        double share = budgetSeconds / (calls.Length * turns);
        for (int turn = 0; turn < turns; turn++)
            for (int i = 0; i < calls.Length; i++) Turn(calls[i], times[i], share);
        return times.Select(Of).ToArray();
    }

    private static void Turn(Action call, List<double> times, double seconds)
    {
        call();
        long start = Stopwatch.GetTimestamp();
        do
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        } while (Stopwatch.GetElapsedTime(start).TotalSeconds < seconds);
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
