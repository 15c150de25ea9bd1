using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Arm = System.Runtime.Intrinsics.Arm;

namespace Qnn.Runtime.Edge.Fast;

/// <summary>
/// The machine's limit for binary multiply-accumulates, measured: every popcount kernel this machine runs from C#, as a
/// GEMM runs it — <see cref="Rows"/> patch rows (the rows a conv layer's patch GEMM passes per call; the 4-row kernels
/// take them 4 at a time, sharing each weight load, as dense layers' groups of samples do), against <see cref="Blocks"/>
/// blocks of 8 interleaved filters of <see cref="Words"/> 64-bit words (the paper's 4096-wide rows), 8 KB of rows and
/// 16 KB of weights, so everything stays in L1 — and the fastest is the limit, by name. Each kernel's counts are checked against
/// the scalar one before it is timed. Run on one core and on all cores at once; the bench divides the runtimes'
/// binary MACs/s by it.
/// </summary>
public static class PopcountLimit
{
    /// <summary>
    /// Rows a call computes: 16, as the conv layers' patch GEMM runs <see cref="HarleySealRows"/> (one block's weights
    /// then serve 16 rows from L1). With 4 rows that kernel measured below the layers it runs (105–112 % of the limit
    /// on the CIFAR net's 72-word layer, 2026-12-02): a limit must time each kernel the way the fast path calls it.
    /// </summary>
    public const int Rows = 16;

    /// <summary>Rows of the kernels that share each weight load among a group (PopcountBlock.RowBlock, the scalar reference's 4).</summary>
    private const int Group = 4;
    public const int Words = 64;
    public const int Blocks = 4;

    /// <summary>Binary MACs of one call of a kernel: rows × filters × bits.</summary>
    public const long MacsPerCall = (long)Rows * Blocks * PopcountBlock.BlockFilters * Words * 64;

    /// <summary>One kernel's rate on <see cref="Result.Threads"/> threads (sum over threads of each one's best chunk).</summary>
    public sealed record KernelRate(string Kernel, double BinaryMacsPerSecond);

    public sealed record Result(int Threads, IReadOnlyList<KernelRate> Kernels)
    {
        public KernelRate Best => Kernels.MaxBy(k => k.BinaryMacsPerSecond)!;
        public string Kernel => Best.Kernel;
        public double BinaryMacsPerSecond => Best.BinaryMacsPerSecond;
    }

    /// <summary>The kernels this process runs, by name: counts[r·Blocks·8 + f] for rows r and filters f.</summary>
    /// <summary>A limit kernel: counts[r·Blocks·8 + f] for the <see cref="Rows"/> rows and the Blocks·8 filters.</summary>
    public delegate void Kernel(ReadOnlySpan<ulong> rows, ReadOnlySpan<ulong> weights, Span<int> counts);

    public static IReadOnlyList<(string Name, Kernel Run)> Kernels()
    {
        var list = new List<(string, Kernel)>
        {
            ("scalar POPCNT, 4 rows x 2 filters", Scalar),
        };
        if (Avx2.IsSupported)
            list.Add(("AVX2 nibble table (vpshufb) + vpsadbw, 4 rows", (a, w, c) => Fast(FastKernel.Avx2, a, w, c)));
        if (Avx512BW.IsSupported && Vector512.IsHardwareAccelerated)
        {
            list.Add(("AVX-512BW nibble table (vpshufb) + vpsadbw, 4 rows", (a, w, c) => Nibble512(a, w, c)));
            list.Add(("AVX-512 Harley-Seal (vpternlogq carry-save of 16 words) + nibble table, 4 rows", HarleySealAvx512));
        }
        // The conv layers' kernel: its counts by weighted vpermb tables cost less than the nibble tables above, so on long
        // rows it outran the kernel that was the limit (104 % in one run of a 72-word conv layer).
        if (HarleySealRows.IsSupported)
            list.Add(("AVX-512 Harley-Seal + vpermb weighted byte counts (HarleySealRows), 16 rows",
                (a, w, c) => HarleySealRows.Rows<XorOp>(a, Rows, Words, 1, w, Blocks, 1, Words, c, Blocks * PopcountBlock.BlockFilters)));
        if (Arm.AdvSimd.IsSupported)
            list.Add(("AdvSimd CNT + UADDLP/UADALP, 2 rows", (a, w, c) => Fast(FastKernel.AdvSimd, a, w, c)));
        return list;
    }

    /// <summary>
    /// Measures every kernel for about <paramref name="duration"/> in all with <paramref name="threads"/> threads, each on
    /// its own arrays; a kernel's rate is the sum over threads of each one's best chunk rate.
    /// </summary>
    public static Result Measure(TimeSpan duration, int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads));
        var kernels = Kernels();
        var each = duration / kernels.Count;
        var rates = new List<KernelRate>();
        foreach (var (name, run) in kernels)
        {
            var totals = new double[threads];
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
            {
                // Rows and weights on 64-byte boundaries, as FastLayer's weights are (AlignedWeights): 512-bit loads split
                // across two cache lines made a kernel's rate depend on where the arrays landed (1013–1220 G between
                // processes on a quiet machine, 2026-12-02), and a limit below the layers' rate is wrong.
                var (rowWords, weightWords) = Data(t + 1);
                var a = new AlignedWeights(rowWords.Length);
                var w = new AlignedWeights(weightWords.Length);
                rowWords.CopyTo(a.Writable);
                weightWords.CopyTo(w.Writable);
                var counts = new int[Rows * Blocks * PopcountBlock.BlockFilters];
                var reference = new int[counts.Length];
                Scalar(a, w, reference);
                run(a, w, counts);
                if (!counts.AsSpan().SequenceEqual(reference)) throw new InvalidOperationException($"popcount limit: kernel '{name}' miscounts");
                // Timed in chunks of 16 calls (tens of microseconds). The limit is what the core can do, so it takes the
                // best chunk, not the median the bench's layer times take: a median limit, and in one run the 90th
                // percentile, fell below the median of the CIFAR net's 72-word conv layer running the same kernel
                // (100–112 % in 2026-12-02's runs; the limit varied 1161–1257 G between quiet processes), and a ratio
                // above 100 % says the limit is wrong.
                var chunks = new List<double>();
                var begin = Stopwatch.GetTimestamp();
                while (Stopwatch.GetElapsedTime(begin) < each || chunks.Count < 5)
                {
                    long t0 = Stopwatch.GetTimestamp();
                    for (int r = 0; r < 16; r++) run(a, w, counts);
                    chunks.Add(16.0 * MacsPerCall / Stopwatch.GetElapsedTime(t0).TotalSeconds);
                }
                totals[t] = chunks.Max();
            });
            rates.Add(new KernelRate(name, totals.Sum()));
        }
        return new Result(threads, rates);
    }

    /// <summary>
    /// The rate one core reads a buffer of <paramref name="bytes"/> (default 512 KB: past this CPU's 48 KB L1, inside its
    /// 1 MB L2) with 64-byte loads, in bytes per second (the best chunk, as the limit: a bound is the best the machine
    /// does): the bound on a batch-1 layer whose weights
    /// come from L2, where each weight is used once per inference.
    /// </summary>
    public static double MeasureReadBytesPerSecond(TimeSpan duration, int bytes = 512 * 1024)
    {
        var buffer = new ulong[bytes / 8];
        new Random(1).NextBytes(MemoryMarshal.AsBytes(buffer.AsSpan()));
        ulong sink = ReadAll(buffer);
        var chunks = new List<double>();
        var begin = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(begin) < duration || chunks.Count < 5)
        {
            long t0 = Stopwatch.GetTimestamp();
            for (int r = 0; r < 4; r++) sink += ReadAll(buffer);
            chunks.Add(4.0 * bytes / Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        GC.KeepAlive(sink);
        return chunks.Max();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static ulong ReadAll(ulong[] buffer)
    {
        ref ulong p = ref MemoryMarshal.GetArrayDataReference(buffer);
        int n = buffer.Length & ~31;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<ulong> a = default, b = default, c = default, d = default;
            for (int i = 0; i < n; i += 32)
            {
                a ^= Vector512.LoadUnsafe(ref p, (nuint)i); b ^= Vector512.LoadUnsafe(ref p, (nuint)(i + 8));
                c ^= Vector512.LoadUnsafe(ref p, (nuint)(i + 16)); d ^= Vector512.LoadUnsafe(ref p, (nuint)(i + 24));
            }
            return Vector512.Sum(a ^ b ^ c ^ d);
        }
        Vector128<ulong> e = default, f = default, g = default, h = default;
        for (int i = 0; i < n; i += 8)
        {
            e ^= Vector128.LoadUnsafe(ref p, (nuint)i); f ^= Vector128.LoadUnsafe(ref p, (nuint)(i + 2));
            g ^= Vector128.LoadUnsafe(ref p, (nuint)(i + 4)); h ^= Vector128.LoadUnsafe(ref p, (nuint)(i + 6));
        }
        return Vector128.Sum(e ^ f ^ g ^ h);
    }

    /// <summary>Random rows (Rows × Words) and weights (Blocks × Words × 8, the fast path's interleaved order).</summary>
    public static (ulong[] Rows, ulong[] Weights) Data(int seed)
    {
        var rng = new Random(seed);
        var a = new ulong[Rows * Words];
        var w = new ulong[Blocks * Words * PopcountBlock.BlockFilters];
        for (int i = 0; i < a.Length; i++) a[i] = (ulong)rng.NextInt64() ^ ((ulong)rng.Next(2) << 63);
        for (int i = 0; i < w.Length; i++) w[i] = (ulong)rng.NextInt64() ^ ((ulong)rng.Next(2) << 63);
        return (a, w);
    }

    /// <summary>Σ popcount(a[i] XOR b[i]), four independent sums so the adds do not serialize.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static long XorPopCount(ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> b)
    {
        ref ulong x = ref MemoryMarshal.GetReference(a);
        ref ulong y = ref MemoryMarshal.GetReference(b);
        long s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int n = Math.Min(a.Length, b.Length);
        int i = 0;
        for (; i + 4 <= n; i += 4)
        {
            s0 += BitOperations.PopCount(Unsafe.Add(ref x, i) ^ Unsafe.Add(ref y, i));
            s1 += BitOperations.PopCount(Unsafe.Add(ref x, i + 1) ^ Unsafe.Add(ref y, i + 1));
            s2 += BitOperations.PopCount(Unsafe.Add(ref x, i + 2) ^ Unsafe.Add(ref y, i + 2));
            s3 += BitOperations.PopCount(Unsafe.Add(ref x, i + 3) ^ Unsafe.Add(ref y, i + 3));
        }
        for (; i < n; i++) s0 += BitOperations.PopCount(Unsafe.Add(ref x, i) ^ Unsafe.Add(ref y, i));
        return s0 + s1 + s2 + s3;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Fast(FastKernel kernel, ReadOnlySpan<ulong> a, ReadOnlySpan<ulong> w, Span<int> counts)
    {
        const int width = Blocks * PopcountBlock.BlockFilters;
        for (int g = 0; g < Rows; g += Group)
            PopcountBlock.Rows<XorOp>(kernel, a[(g * Words)..], Group, Words, 1, w, Blocks, 1, Words, counts[(g * width)..], width);
    }

    /// <summary>The nibble table alone (<see cref="PopcountBlock.Lanes4Avx512"/>), 4 rows sharing each weight load.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Nibble512(ReadOnlySpan<ulong> rows, ReadOnlySpan<ulong> weights, Span<int> counts)
    {
        ref ulong a = ref MemoryMarshal.GetReference(rows);
        ref ulong w0 = ref MemoryMarshal.GetReference(weights);
        const int width = Blocks * PopcountBlock.BlockFilters;
        for (int g = 0; g < Rows; g += Group)
        for (int b = 0; b < Blocks; b++)
        {
            PopcountBlock.Lanes4Avx512<XorOp>(ref Unsafe.Add(ref a, g * Words), Words, 2 * Words, 3 * Words, ref Unsafe.Add(ref w0, b * Words * PopcountBlock.BlockFilters), Words,
                out var t0, out var t1, out var t2, out var t3);
            var c = counts[(g * width + b * PopcountBlock.BlockFilters)..];
            Vector512.Narrow(t0, t0).GetLower().AsInt32().CopyTo(c);
            Vector512.Narrow(t1, t1).GetLower().AsInt32().CopyTo(c[width..]);
            Vector512.Narrow(t2, t2).GetLower().AsInt32().CopyTo(c[(2 * width)..]);
            Vector512.Narrow(t3, t3).GetLower().AsInt32().CopyTo(c[(3 * width)..]);
        }
    }

    /// <summary>The reference: 4 rows × 2 filters per pass, 8 independent sums (16 general registers).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Scalar(ReadOnlySpan<ulong> rows, ReadOnlySpan<ulong> weights, Span<int> counts)
    {
        for (int g = 0; g < Rows; g += Group) ScalarGroup(ref MemoryMarshal.GetReference(rows), g, weights, counts);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void ScalarGroup(ref ulong rows, int group, ReadOnlySpan<ulong> weights, Span<int> counts)
    {
        ref ulong a = ref Unsafe.Add(ref rows, group * Words);
        ref ulong w0 = ref MemoryMarshal.GetReference(weights);
        const int width = Blocks * PopcountBlock.BlockFilters;
        int g = group * width;
        for (int b = 0; b < Blocks; b++)
        {
            ref ulong w = ref Unsafe.Add(ref w0, b * Words * PopcountBlock.BlockFilters);
            for (int l = 0; l < PopcountBlock.BlockFilters; l += 2)
            {
                int c0 = 0, c1 = 0, c2 = 0, c3 = 0, d0 = 0, d1 = 0, d2 = 0, d3 = 0;
                for (int k = 0; k < Words; k++)
                {
                    ulong x = Unsafe.Add(ref w, k * PopcountBlock.BlockFilters + l), y = Unsafe.Add(ref w, k * PopcountBlock.BlockFilters + l + 1);
                    ulong r0 = Unsafe.Add(ref a, k), r1 = Unsafe.Add(ref a, Words + k), r2 = Unsafe.Add(ref a, 2 * Words + k), r3 = Unsafe.Add(ref a, 3 * Words + k);
                    c0 += BitOperations.PopCount(r0 ^ x); d0 += BitOperations.PopCount(r0 ^ y);
                    c1 += BitOperations.PopCount(r1 ^ x); d1 += BitOperations.PopCount(r1 ^ y);
                    c2 += BitOperations.PopCount(r2 ^ x); d2 += BitOperations.PopCount(r2 ^ y);
                    c3 += BitOperations.PopCount(r3 ^ x); d3 += BitOperations.PopCount(r3 ^ y);
                }
                int f = g + b * PopcountBlock.BlockFilters + l;
                counts[f] = c0; counts[width + f] = c1; counts[2 * width + f] = c2; counts[3 * width + f] = c3;
                counts[f + 1] = d0; counts[width + f + 1] = d1; counts[2 * width + f + 1] = d2; counts[3 * width + f + 1] = d3;
            }
        }
    }

    /// <summary>
    /// Harley–Seal alone (<see cref="PopcountBlock.HarleySealAvx512"/>): 16 XORed words through carry-save adders, one
    /// popcount per 16 vectors; rows in turn, each over the block's weights in L1.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void HarleySealAvx512(ReadOnlySpan<ulong> rows, ReadOnlySpan<ulong> weights, Span<int> counts)
    {
        ref ulong a0 = ref MemoryMarshal.GetReference(rows);
        ref ulong w0 = ref MemoryMarshal.GetReference(weights);
        const int width = Blocks * PopcountBlock.BlockFilters;
        for (int b = 0; b < Blocks; b++)
        {
            ref ulong w = ref Unsafe.Add(ref w0, b * Words * PopcountBlock.BlockFilters);
            for (int r = 0; r < Rows; r++)
            {
                var lanes = PopcountBlock.HarleySealAvx512<XorOp>(ref Unsafe.Add(ref a0, r * Words), ref w, Words);
                Vector512.Narrow(lanes, lanes).GetLower().AsInt32().CopyTo(counts.Slice(r * width + b * PopcountBlock.BlockFilters, 8));
            }
        }
    }
}
