using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Qnn.Runtime.Edge.Fast;

/// <summary>
/// The machine's limit for binary multiply-accumulates, measured: a tight loop of XOR and PopCount over two arrays
/// of 64-bit words small enough to stay in L1 (2 × 8 KB), 64 binary MACs per word. Run on one core and on all
/// cores at once; the bench divides the interpreter's achieved binary MACs/s by it.
/// </summary>
public static class PopcountLimit
{
    public const int Words = 1024;

    public sealed record Result(int Threads, double WordsPerSecond)
    {
        public double BinaryMacsPerSecond => WordsPerSecond * 64;
    }

    /// <summary>
    /// Measures for about <paramref name="duration"/> with <paramref name="threads"/> threads, each on its own arrays;
    /// the result is the sum over threads of each one's median rate.
    /// </summary>
    public static Result Measure(TimeSpan duration, int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads));
        var totals = new long[threads];
        long sink = 0;
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            var rng = new Random(t + 1);
            var a = new ulong[Words];
            var b = new ulong[Words];
            for (int i = 0; i < Words; i++) { a[i] = (ulong)rng.NextInt64(); b[i] = (ulong)rng.NextInt64(); }
            long check = 0;
            XorPopCount(a, b); // warm up (caches)
            // Timed in chunks of 16 passes (16 K words, tens of microseconds): the median chunk is the rate when this
            // thread had its core, as the bench's other medians are, even on a machine shared with other processes.
            var rates = new List<double>();
            var begin = Stopwatch.GetTimestamp();
            while (Stopwatch.GetElapsedTime(begin) < duration || rates.Count < 5)
            {
                long t0 = Stopwatch.GetTimestamp();
                for (int r = 0; r < 16; r++) check += XorPopCount(a, b);
                rates.Add(16.0 * Words / Stopwatch.GetElapsedTime(t0).TotalSeconds);
            }
            rates.Sort();
            totals[t] = (long)rates[rates.Count / 2];
            Interlocked.Add(ref sink, check);
        });
        GC.KeepAlive(sink);
        return new Result(threads, totals.Sum());
    }

    /// <summary>Σ popcount(a[i] XOR b[i]), four independent sums so the adds do not serialize.</summary>
    // Fully optimized from the first call: a measurement must not time tier-0 code.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static long XorPopCount(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b)
    {
        ref ulong x = ref MemoryMarshal.GetReference(a);
        ref ulong y = ref MemoryMarshal.GetReference(b);
        long s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int n = Math.Min(a.Length, b.Length) & ~3;
        for (int i = 0; i < n; i += 4)
        {
            s0 += BitOperations.PopCount(Unsafe.Add(ref x, i) ^ Unsafe.Add(ref y, i));
            s1 += BitOperations.PopCount(Unsafe.Add(ref x, i + 1) ^ Unsafe.Add(ref y, i + 1));
            s2 += BitOperations.PopCount(Unsafe.Add(ref x, i + 2) ^ Unsafe.Add(ref y, i + 2));
            s3 += BitOperations.PopCount(Unsafe.Add(ref x, i + 3) ^ Unsafe.Add(ref y, i + 3));
        }
        return s0 + s1 + s2 + s3;
    }
}
