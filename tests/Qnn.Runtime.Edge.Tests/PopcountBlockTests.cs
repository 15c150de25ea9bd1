using System.Numerics;
using CsCheck;
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
        }, iter: 300);
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
