using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using Qnn.Format;
using Qnn.Gpu;
using Qnn.Runtime.Edge;
using Qnn.Runtime.Gpu;
using Qnn.Runtime.Gpu.Kernels;

namespace Qnn.Benchmarks.Gpu;

// Inside the namespace, so that it wins over the enclosing namespace's Qnn.Benchmarks.GemmShape (a CPU GEMM size).
using GemmShape = Qnn.Runtime.Gpu.Kernels.GemmShape;

/// <summary>
/// The paper's binary matrix multiplication: C = A · Bᵀ for ±1 matrices A (M × K) and B (N × K), every kernel
/// version on the same random bits. Validation: rows of version 1's result are checked against the portable
/// interpreter running a one-layer model that computes them (below), and every other version against version 1
/// on all M × N entries (version 3 against the sign of version 1's result, as it writes packed sign bits).
/// </summary>
public static class GemmBench
{
    public sealed record Row(string Version, bool Valid, string? Problem, double Milliseconds, double BinaryOpsPerSecond,
        double? SpeedupOverBaseline, double? PeakShare, int Runs);

    public sealed record Report(string Device, int M, int N, int K, double BinaryOps, string Peak, int ValidatedRows, int ValidatedColumns, IReadOnlyList<Row> Versions);

    /// <summary>Rows of version 1 checked against the portable interpreter.</summary>
    public const int ReferenceRows = 4;

    public static Report Run(GpuDevice device, int m, int n, int k, double minSeconds, IEnumerable<KernelVersion> versions, int seed = 1, Action<string>? progress = null)
    {
        Accelerator acc = device.Accelerator;
        GpuKernels kernels = GpuKernels.For(acc);
        var rng = new Random(seed);
        int k32 = (k + 31) / 32, k64 = (k32 + 1) / 2;
        uint[] a = RandomBits(rng, m, k, k32), b = RandomBits(rng, n, k, k32);
        var g = new GemmShape { Rows = m, Filters = n, K64 = k64, InPlanes = 1, WeightPlanes = 1, Signed = 1, Kc = k };
        var t = new ThresholdShape { Rows = m, Filters = n, Levels = 1, OutBits = 1, OutCW = (n + 31) / 32 };

        using var a64 = acc.Allocate1D(Pack64(a, m, k32, k64));
        using var b64 = acc.Allocate1D(Pack64(b, n, k32, k64));
        using var pop = acc.Allocate1D<int>(n);   // unused for signed input; the kernels take it
        using var thresholds = acc.Allocate1D(new int[n]);            // sign: level 1 when acc ≥ 0
        using var flip = acc.Allocate1D(new uint[(n + 31) / 32]);
        using var result = acc.Allocate1D<int>((long)m * n);
        using var signs = acc.Allocate1D<uint>((long)m * t.OutCW);
        MemoryBuffer1D<float, Stride1D.Dense>? fa = null, fb = null, fc = null;
        CuBlasGemm? blas = null;
        try
        {
            int[]? reference = null;
            int validatedRows = 0, validatedColumns = 0;
            var rows = new List<Row>();
            double ops = 2.0 * m * n * k;
            PopcountPeak peak = PopcountPeak.Of(device);
            double? baseline = null;
            foreach (KernelVersion v in versions)
            {
                progress?.Invoke(v.Name());
                Action step;
                switch (v)
                {
                    case KernelVersion.XnorGemm1:
                        step = () => kernels.XnorGemm1(new Index2D(m, n), a64.View.AsContiguous().Cast<uint>(), b64.View.AsContiguous().Cast<uint>(), pop.View, result.View, g);
                        break;
                    case KernelVersion.XnorGemm2:
                        step = () => kernels.XnorGemm2(kernels.TileGrid(g), a64.View, b64.View, pop.View, result.View, g);
                        break;
                    case KernelVersion.XnorGemm3:
                        step = () => kernels.XnorGemm3(kernels.TileGrid(g), a64.View, b64.View, pop.View, thresholds.View, flip.View, signs.View, g, t);
                        break;
                    case KernelVersion.FloatBaseline:
                    case KernelVersion.CuBlas:
                        if (v == KernelVersion.CuBlas && blas is null)
                        {
                            blas = CuBlasGemm.TryCreate(acc, out string? why);
                            if (blas is null)
                            {
                                rows.Add(new Row(v.Name(), false, why, 0, 0, null, null, 0));
                                continue;
                            }
                        }
                        fa ??= acc.Allocate1D(Floats(a, m, k, k32));
                        fb ??= acc.Allocate1D(Floats(b, n, k, k32));
                        if (v == KernelVersion.FloatBaseline)
                            step = () => kernels.FloatGemm(new Index2D(m, n), fa.View, fb.View, result.View, n, k);
                        else
                        {
                            fc ??= acc.Allocate1D<float>((long)m * n);
                            step = () =>
                            {
                                blas!.Multiply(fa.View, fb.View, fc.View, m, n, k);
                                acc.Synchronize();
                                kernels.FloatToInt(m * n, fc.View, result.View);
                            };
                        }
                        break;
                    default: continue;
                }
                Action synced = () => { step(); acc.Synchronize(); };
                result.MemSetToZero();
                signs.MemSetToZero();
                synced();
                string? problem;
                if (v == KernelVersion.XnorGemm3)
                    problem = reference is null ? "needs xnor1's result to validate against" : CheckSigns(signs.GetAsArray1D(), reference, m, n, t.OutCW);
                else
                {
                    int[] got = result.GetAsArray1D();
                    if (reference is null)
                    {
                        (validatedRows, validatedColumns, problem) = CheckAgainstPortable(got, a, b, m, n, k, k32, rng);
                        if (problem is null) reference = got;
                    }
                    else problem = got.AsSpan().SequenceEqual(reference) ? null : $"{Enumerable.Range(0, got.Length).Count(i => got[i] != reference[i])} entries differ from xnor1";
                }
                if (problem is not null)
                {
                    rows.Add(new Row(v.Name(), false, problem + ": not timed", 0, 0, null, null, 0));
                    continue;
                }
                var (seconds, runs) = Timing.OfDeviceStep(synced, minSeconds);
                double rate = ops / seconds;
                if (v == KernelVersion.FloatBaseline) baseline = rate;
                rows.Add(new Row(v.Name(), true, null, Math.Round(seconds * 1e3, 4), rate, baseline is { } bl ? Math.Round(rate / bl, 2) : null,
                    peak.OpsPerSecond is { } p ? Math.Round(rate / p, 5) : null, runs));
            }
            return new Report(device.Name, m, n, k, ops, peak.Formula, validatedRows, validatedColumns, rows);
        }
        finally
        {
            fa?.Dispose(); fb?.Dispose(); fc?.Dispose(); blas?.Dispose();
        }
    }

    /// <summary>
    /// Checks <see cref="ReferenceRows"/> rows of a result against the portable interpreter. The interpreter runs a
    /// one-layer model: a Dense layer over the K unsigned 1-bit inputs of row a (pixels 0 or 255, 1 input bit) with the
    /// N′ = min(N, 4096) rows of B as filters. Its accumulator is u = 2·popcount(a AND b) − popcount(a) (SPEC 1.4), and
    /// the ±1 product is K − 2·popcount(a XOR b) = 2u + K − 2·popcount(b), which the scores layer computes exactly
    /// with shift 1 and offset K − 2·popcount(b) (SPEC 1.7).
    /// </summary>
    private static (int Rows, int Columns, string? Problem) CheckAgainstPortable(int[] got, uint[] a, uint[] b, int m, int n, int k, int k32, Random rng)
    {
        int cols = Math.Min(n, FormatConstants.MaxClasses);
        if (cols < FormatConstants.MinClasses) return (0, 0, "N must be at least 2 to validate against the portable interpreter");
        var layer = LayerFactory.Dense(1, 1, k, cols, 1, 1, false, OutputKind.Scores, 0);
        layer.Weights = b.AsSpan(0, cols * k32).ToArray();
        layer.Shifts = Enumerable.Repeat(1, cols).ToArray();
        layer.DeclaredWeightWords = layer.WeightWords;
        layer.Offsets = Enumerable.Range(0, cols).Select(f => k - 2 * b.AsSpan(f * k32, k32).ToArray().Sum(w => BitOperations.PopCount(w))).ToArray();
        var model = new QnnModel { InputHeight = 1, InputWidth = 1, InputChannels = k, InputBits = 1, ClassCount = cols, Layers = [layer] };
        ModelValidator.Check(model);
        var interpreter = new Interpreter(model);
        var image = new byte[k];
        var scores = new int[cols];
        int[] sampleRows = new[] { 0, m - 1 }.Concat(Enumerable.Range(0, ReferenceRows - 2).Select(_ => rng.Next(m))).Distinct().ToArray();
        foreach (int r in sampleRows)
        {
            for (int c = 0; c < k; c++) image[c] = (byte)(((a[r * k32 + (c >> 5)] >> (c & 31)) & 1) != 0 ? 255 : 0);
            interpreter.Run(image, scores);
            for (int f = 0; f < cols; f++)
                if (scores[f] != got[(long)r * n + f])
                    return (sampleRows.Length, cols, $"row {r} column {f}: portable {scores[f]}, kernel {got[(long)r * n + f]}");
        }
        return (sampleRows.Length, cols, null);
    }

    private static string? CheckSigns(uint[] words, int[] reference, int m, int n, int cw)
    {
        int bad = 0;
        for (int r = 0; r < m; r++)
            for (int f = 0; f < n; f++)
                if ((((words[(long)r * cw + (f >> 5)] >> (f & 31)) & 1) != 0) != (reference[(long)r * n + f] >= 0)) bad++;
        return bad == 0 ? null : $"{bad} sign bits differ from the sign of xnor1's result";
    }

    /// <summary>rows × K random bits, rows padded to whole 32-bit words with zero bits.</summary>
    private static uint[] RandomBits(Random rng, int rows, int k, int k32)
    {
        var words = new uint[(long)rows * k32];
        for (long i = 0; i < words.Length; i++)
        {
            uint x = (uint)rng.NextInt64(0, 1L << 32);
            int rest = k - (int)(i % k32) * 32;
            words[i] = rest >= 32 ? x : x & ((1u << rest) - 1);
        }
        return words;
    }

    private static ulong[] Pack64(uint[] words, int rows, int k32, int k64)
    {
        var packed = new ulong[(long)rows * k64];
        for (long r = 0; r < rows; r++)
            for (int w = 0; w < k32; w++)
                packed[r * k64 + (w >> 1)] |= (ulong)words[r * k32 + w] << (32 * (w & 1));
        return packed;
    }

    /// <summary>The ±1 values of the bits as floats, rows × K (the float baselines' operands).</summary>
    private static float[] Floats(uint[] words, int rows, int k, int k32)
    {
        var values = new float[(long)rows * k];
        for (long r = 0; r < rows; r++)
            for (int c = 0; c < k; c++)
                values[r * k + c] = ((words[r * k32 + (c >> 5)] >> (c & 31)) & 1) != 0 ? 1f : -1f;
        return values;
    }
}
