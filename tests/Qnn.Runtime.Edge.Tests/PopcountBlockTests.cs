using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CsCheck;
using Qnn.Format;
using Qnn.Runtime.Edge.Fast;

namespace Qnn.Runtime.Edge.Tests;

public class PopcountBlockTests
{
    private static int Naive(ulong[] patch, int plane, int words, ulong[] block, int weightPlane, int lane, bool xor)
    {
        int count = 0;
        for (int w = 0; w < words; w++)
        {
            ulong a = patch[plane * words + w], b = block[(weightPlane * words + w) * PopcountBlock.BlockFilters + lane];
            count += BitOperations.PopCount(xor ? a ^ b : a & b);
        }
        return count;
    }

    /// <summary>Every sum of <see cref="PopcountBlock.Rows{TOp}"/>' layout (row r, block b, lane l at r·sumStride + b·8 + l) against the naive plane-pair sum.</summary>
    private static void AssertNaiveSums(ulong[] patches, int rows, int stride, int k, ulong[] weights, int blocks, int m, int words, int[] sums, int sumStride, bool xor)
    {
        for (int r = 0; r < rows; r++)
        {
            var patch = patches.AsSpan(r * stride, k * words).ToArray();
            for (int b = 0; b < blocks; b++)
            {
                var block = weights.AsSpan(b * m * words * PopcountBlock.BlockFilters, m * words * PopcountBlock.BlockFilters).ToArray();
                for (int lane = 0; lane < PopcountBlock.BlockFilters; lane++)
                {
                    int expected = 0;
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < k; j++) expected += Naive(patch, j, words, block, i, lane, xor) << (i + j);
                    Assert.Equal(expected, sums[r * sumStride + b * PopcountBlock.BlockFilters + lane]);
                }
            }
        }
    }

    /// <summary>Every kernel, both bit products, plane counts and lengths around the SIMD fold of 31 words.</summary>
    [Theory]
    [MemberData(nameof(FastInterpreterTests.Kernels), MemberType = typeof(FastInterpreterTests))]
    public void BlockPlanes_equals_the_shifted_sum_of_popcounts(FastKernel kernel)
    {
        Gen.Select(Gen.Int[1, 70], Gen.Int[1, 3], Gen.Int[1, 3], Gen.Bool, Gen.Int).Sample((words, k, m, xor, seed) =>
        {
            var rng = new Random(seed);
            var patch = Enumerable.Range(0, k * words).Select(_ => (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63)).ToArray();
            var block = Enumerable.Range(0, m * words * PopcountBlock.BlockFilters).Select(_ => (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63)).ToArray();
            var sums = new int[PopcountBlock.BlockFilters];
            if (xor) PopcountBlock.BlockPlanes<XorOp>(kernel, patch, k, block, m, words, sums);
            else PopcountBlock.BlockPlanes<AndOp>(kernel, patch, k, block, m, words, sums);
            for (int lane = 0; lane < PopcountBlock.BlockFilters; lane++)
            {
                int expected = 0;
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < k; j++) expected += Naive(patch, j, words, block, i, lane, xor) << (i + j);
                Assert.Equal(expected, sums[lane]);
            }
            var counts = new int[PopcountBlock.BlockFilters];
            PopcountBlock.Block<XorOp>(kernel, patch.AsSpan(0, words), block.AsSpan(0, words * PopcountBlock.BlockFilters), counts);
            for (int lane = 0; lane < PopcountBlock.BlockFilters; lane++) Assert.Equal(Naive(patch, 0, words, block, 0, lane, true), counts[lane]);
        }, iter: 300);
    }

    /// <summary>
    /// Rows blocked: 1 to 4 patch rows against many blocks in one call, both bit products, plane counts, and lengths
    /// around the Harley–Seal groups of 16 words and the fold of 31, each sum equal to the naive one.
    /// </summary>
    [Theory]
    [MemberData(nameof(FastInterpreterTests.Kernels), MemberType = typeof(FastInterpreterTests))]
    public void Rows_equals_the_shifted_sum_of_popcounts_for_every_row_and_block(FastKernel kernel)
    {
        Gen.Select(Gen.Int[1, 80], Gen.Int[1, 4], Gen.Int[1, 3], Gen.Int[1, 3], Gen.Int[1, 5], Gen.Bool, Gen.Int).Sample((words, rows, k, m, blocks, xor, seed) =>
        {
            var rng = new Random(seed);
            ulong Word() => rng.Next(8) switch { 0 => 0, 1 => ulong.MaxValue, _ => (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63) };
            int stride = k * words + rng.Next(3), sumStride = blocks * PopcountBlock.BlockFilters + rng.Next(3);
            var patches = Enumerable.Range(0, rows * stride).Select(_ => Word()).ToArray();
            var weights = Enumerable.Range(0, blocks * m * words * PopcountBlock.BlockFilters).Select(_ => Word()).ToArray();
            var sums = new int[rows * sumStride];
            if (xor) PopcountBlock.Rows<XorOp>(kernel, patches, rows, stride, k, weights, blocks, m, words, sums, sumStride);
            else PopcountBlock.Rows<AndOp>(kernel, patches, rows, stride, k, weights, blocks, m, words, sums, sumStride);
            AssertNaiveSums(patches, rows, stride, k, weights, blocks, m, words, sums, sumStride, xor);
        }, iter: 300);
    }

    /// <summary>
    /// Rows of whole Harley–Seal groups: one group of one plane each (a 1024-wide dense layer of binary weights and
    /// activations, which AVX-512 runs as straight-line code), several groups, planes, and a tail after them, 1 to 4 rows
    /// against up to 130 blocks, on random words and on the extremes (every bit disagreeing: each byte of the last
    /// group's weighted counts at its maximum, 248).
    /// </summary>
    [Theory]
    [MemberData(nameof(FastInterpreterTests.Kernels), MemberType = typeof(FastInterpreterTests))]
    public void Rows_of_whole_harley_seal_groups_equal_the_naive_sums(FastKernel kernel)
    {
        Gen.Select(Gen.Int[0, 6].Select(i => new[] { 16, 16, 32, 48, 17, 31, 47 }[i]), Gen.Int[1, 4], Gen.Int[0, 2].Select(i => Math.Max(1, i)), Gen.Int[0, 3].Select(i => i < 2 ? 1 : 3), Gen.Int[1, 130], Gen.Int[0, 2], Gen.Int)
            .Sample((words, rows, k, m, blocks, fill, seed) =>
        {
            var rng = new Random(seed);
            ulong Row() => fill switch { 0 => (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63), 1 => ulong.MaxValue, _ => 0 };
            ulong Weight() => fill switch { 0 => (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63), 1 => 0, _ => ulong.MaxValue };
            int stride = k * words + 1, sumStride = blocks * PopcountBlock.BlockFilters + 5;
            var patches = Enumerable.Range(0, rows * stride).Select(_ => Row()).ToArray();
            var weights = Enumerable.Range(0, blocks * m * words * PopcountBlock.BlockFilters).Select(_ => Weight()).ToArray();
            var sums = new int[rows * sumStride];
            PopcountBlock.Rows<XorOp>(kernel, patches, rows, stride, k, weights, blocks, m, words, sums, sumStride);
            AssertNaiveSums(patches, rows, stride, k, weights, blocks, m, words, sums, sumStride, xor: true);
        }, iter: 200);
    }

    /// <summary>The bound on disagreements d gives SPEC 1.6's binary output (agreements AgreeAll − 2d ≥ t, ≤ t flipped) for every d, odd and even differences, and the extreme thresholds.</summary>
    [Fact]
    public void The_disagreement_bound_gives_the_threshold_rule_for_every_sum()
    {
        Gen.Select(Gen.Int[0, 5000], Gen.Int[-6000, 6000], Gen.Bool, Gen.Int[0, 10]).Sample((agreeAll, t, flipped, extreme) =>
        {
            int threshold = extreme switch { 0 => int.MinValue, 1 => int.MaxValue, _ => t };
            long bound = FastLayer.DisagreementBound(agreeAll, threshold, flipped);
            for (int d = 0; d <= agreeAll; d++)
            {
                int agreements = agreeAll - 2 * d;
                bool expected = flipped ? agreements <= threshold : agreements >= threshold;
                Assert.Equal(expected, (d <= bound) ^ flipped);
            }
        }, iter: 500);
    }

    /// <summary>
    /// The thresholds fused into the AVX-512 kernel: every output bit of <see cref="PopcountBlock.RowsToBits{TOp}"/> is
    /// (sum ≤ bound) XOR flip of the scalar reference's sum, for 1 to 4 rows, one or several groups and planes, bounds
    /// around the sums (and past them both ways), every flip pattern, and a last block of padding filters.
    /// </summary>
    [Fact]
    public void Thresholds_fused_into_the_kernel_equal_the_thresholds_of_the_reference_sums()
    {
        if (!PopcountBlock.Supported(FastKernel.Avx512)) return;
        Assert.False(PopcountBlock.FusesThresholds(FastKernel.Avx512, 17));
        Assert.False(PopcountBlock.FusesThresholds(FastKernel.Avx2, 16));
        Gen.Select(Gen.Int[1, 4].Select(g => 16 * g), Gen.Int[1, 4], Gen.Int[0, 2].Select(i => Math.Max(1, i)), Gen.Int[0, 2].Select(i => Math.Max(1, i)), Gen.Int[1, 130], Gen.Int)
            .Sample((words, rows, k, m, blocks, seed) =>
        {
            var rng = new Random(seed);
            int stride = k * words + rng.Next(3), bitsStride = blocks + rng.Next(3), sumStride = blocks * PopcountBlock.BlockFilters;
            var patches = Enumerable.Range(0, rows * stride).Select(_ => (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63)).ToArray();
            var weights = Enumerable.Range(0, blocks * m * words * PopcountBlock.BlockFilters).Select(_ => (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63)).ToArray();
            var sums = new int[rows * sumStride];
            PopcountBlock.Rows<XorOp>(FastKernel.Scalar, patches, rows, stride, k, weights, blocks, m, words, sums, sumStride);
            int middle = words * 32 * ((1 << k) - 1) * ((1 << m) - 1);   // the mean sum of random words: half the largest
            var bounds = Enumerable.Range(0, blocks * PopcountBlock.BlockFilters).Select(_ => (long)middle + rng.Next(-100, 101) * (rng.Next(10) == 0 ? 1000 : 1)).ToArray();
            var flips = Enumerable.Range(0, blocks).Select(_ => (byte)rng.Next(256)).ToArray();
            var bits = new byte[rows * bitsStride];
            PopcountBlock.RowsToBits<XorOp>(FastKernel.Avx512, patches, rows, stride, k, weights, blocks, m, words, bounds, flips, bits, bitsStride);
            for (int r = 0; r < rows; r++)
                for (int f = 0; f < blocks * PopcountBlock.BlockFilters; f++)
                {
                    bool flip = (flips[f / 8] >> (f % 8) & 1) != 0;
                    bool expected = (sums[r * sumStride + f] <= bounds[f]) ^ flip;
                    Assert.Equal(expected, (bits[r * bitsStride + f / 8] >> (f % 8) & 1) != 0);
                }
        }, iter: 200);
    }

    /// <summary>A layer's packed weights start on a cache line (whole 512-bit loads), hold what the layer packs, and are indexable as before.</summary>
    [Fact]
    public unsafe void Packed_weights_start_on_a_cache_line()
    {
        var rng = new Random(17);
        for (int n = 0; n < 40; n++)
        {
            var l = LayerFactory.Dense(1, 1, 32 * rng.Next(1, 70), rng.Next(1, 100), rng.Next(1, 3), 1, true, OutputKind.Thresholds, 1);
            RandomLayers.Fill(rng, l);
            var layer = new FastLayer(l);
            Assert.Equal(0, (long)Unsafe.AsPointer(ref MemoryMarshal.GetReference(layer.Weights.Span)) % 64);
            Assert.Equal(layer.Blocks * l.WeightBits * layer.BlockPlaneWords, layer.Weights.Length);
            for (int i = 0; i < layer.Weights.Length; i++) Assert.Equal(layer.Weights.Span[i], layer.Weights[i]);
            Assert.Equal(l.Weights![0] | (l.InC > 32 ? (ulong)l.Weights[1] << 32 : 0), layer.Weights[0]);
        }
    }

    /// <summary>
    /// The conv layers' patch GEMM (AVX-512 with VBMI): any number of rows against many blocks, both bit products,
    /// plane counts, and every length from 1 word (rest words alone, each count of rest 0–15) past several Harley–Seal
    /// groups and the fold of their carries every 31 groups; all ones and zeros where the carries are deepest. Each sum
    /// equal to the scalar reference kernel's.
    /// </summary>
    [Fact]
    public void HarleySealRows_equals_the_scalar_kernel_for_every_row_block_and_length()
    {
        if (!HarleySealRows.IsSupported) return;
        Gen.Select(Gen.Int[1, 100], Gen.Int[1, 20], Gen.Int[1, 2], Gen.Int[1, 2], Gen.Int[1, 4], Gen.Int[0, 3], Gen.Int).Sample((words, rows, k, m, blocks, fill, seed) =>
        {
            var rng = new Random(seed);
            if (rng.Next(8) == 0) words = 16 * 31 + rng.Next(1, 40); // past the fold of 31 groups' carries
            ulong Word() => fill switch
            {
                1 => ulong.MaxValue,
                2 => rng.Next(2) == 0 ? 0 : ulong.MaxValue,
                _ => rng.Next(8) switch { 0 => 0, 1 => ulong.MaxValue, _ => (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63) },
            };
            int stride = k * words + rng.Next(3), sumStride = blocks * PopcountBlock.BlockFilters + rng.Next(3);
            var patches = Enumerable.Range(0, rows * stride).Select(_ => Word()).ToArray();
            var weights = Enumerable.Range(0, blocks * m * words * PopcountBlock.BlockFilters).Select(_ => fill == 1 ? 0 : Word()).ToArray();
            bool xor = rng.Next(2) == 0;
            var sums = new int[rows * sumStride];
            var expected = new int[rows * sumStride];
            if (xor) HarleySealRows.Rows<XorOp>(patches, rows, stride, k, weights, blocks, m, words, sums, sumStride);
            else HarleySealRows.Rows<AndOp>(patches, rows, stride, k, weights, blocks, m, words, sums, sumStride);
            for (int r0 = 0; r0 < rows; r0 += PopcountBlock.RowBlock)
            {
                int n = Math.Min(PopcountBlock.RowBlock, rows - r0);
                var from = patches.AsSpan(r0 * stride);
                var to = expected.AsSpan(r0 * sumStride);
                if (xor) PopcountBlock.Rows<XorOp>(FastKernel.Scalar, from, n, stride, k, weights, blocks, m, words, to, sumStride);
                else PopcountBlock.Rows<AndOp>(FastKernel.Scalar, from, n, stride, k, weights, blocks, m, words, to, sumStride);
            }
            for (int r = 0; r < rows; r++)
                Assert.True(expected.AsSpan(r * sumStride, blocks * PopcountBlock.BlockFilters).SequenceEqual(sums.AsSpan(r * sumStride, blocks * PopcountBlock.BlockFilters)),
                    $"row {r} of {rows}, {words} words, {k} x {m} planes, {(xor ? "xor" : "and")}");
        }, iter: 400);
    }

    [Fact]
    public void The_popcount_limit_loop_counts_disagreeing_bits()
    {
        ulong[] a = [0, ulong.MaxValue, 0b1011, 5, 7, 7, 0, 1, 3], b = [0, 0, 0b0001, 5, 0, 7, ulong.MaxValue, 0, 0];
        Assert.Equal(0 + 64 + 2 + 0 + 3 + 0 + 64 + 1 + 2, PopcountLimit.XorPopCount(a, b));
    }

    /// <summary>
    /// Every kernel of the limit counts what the scalar reference counts (on random data, and on all ones and zeros
    /// where the Harley–Seal carries are deepest), and the limit is the fastest of them, by name.
    /// </summary>
    [Fact]
    public void Every_popcount_limit_kernel_equals_the_scalar_reference_and_the_best_is_the_limit()
    {
        var kernels = PopcountLimit.Kernels();
        Assert.Contains(kernels, k => k.Name.StartsWith("scalar"));
        if (System.Runtime.Intrinsics.X86.Avx512BW.IsSupported) Assert.Contains(kernels, k => k.Name.Contains("Harley-Seal"));
        foreach (int seed in new[] { 1, 2, 3 })
        {
            var (rows, weights) = PopcountLimit.Data(seed);
            if (seed == 2) { Array.Fill(rows, ulong.MaxValue); Array.Fill(weights, 0UL); }
            if (seed == 3) { Array.Fill(rows, 0UL); }
            var reference = new int[PopcountLimit.Rows * PopcountLimit.Blocks * PopcountBlock.BlockFilters];
            for (int r = 0; r < PopcountLimit.Rows; r++)
                for (int f = 0; f < PopcountLimit.Blocks * PopcountBlock.BlockFilters; f++)
                {
                    int count = 0, b = f / 8, l = f % 8;
                    for (int k = 0; k < PopcountLimit.Words; k++)
                        count += BitOperations.PopCount(rows[r * PopcountLimit.Words + k] ^ weights[(b * PopcountLimit.Words + k) * 8 + l]);
                    reference[r * PopcountLimit.Blocks * 8 + f] = count;
                }
            foreach (var (name, run) in kernels)
            {
                var counts = new int[reference.Length];
                run(rows, weights, counts);
                Assert.True(reference.AsSpan().SequenceEqual(counts), $"{name} miscounts (seed {seed})");
            }
        }
        var result = PopcountLimit.Measure(TimeSpan.FromMilliseconds(50), 1);
        Assert.Equal(kernels.Count, result.Kernels.Count);
        Assert.All(result.Kernels, k => Assert.True(k.BinaryMacsPerSecond > 0));
        Assert.Equal(result.Kernels.Max(k => k.BinaryMacsPerSecond), result.BinaryMacsPerSecond);
        Assert.Equal(result.Best.Kernel, result.Kernel);
    }
}
