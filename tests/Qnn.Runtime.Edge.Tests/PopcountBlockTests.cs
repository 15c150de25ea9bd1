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

    [Fact]
    public void The_popcount_limit_loop_counts_disagreeing_bits()
    {
        ulong[] a = [0, ulong.MaxValue, 0b1011, 5, 7, 7, 0, 1], b = [0, 0, 0b0001, 5, 0, 7, ulong.MaxValue, 0];
        Assert.Equal(0 + 64 + 2 + 0 + 3 + 0 + 64 + 1, PopcountLimit.XorPopCount(a, b));
        var result = PopcountLimit.Measure(TimeSpan.FromMilliseconds(20), 1);
        Assert.True(result.WordsPerSecond > 0);
        Assert.Equal(result.WordsPerSecond * 64, result.BinaryMacsPerSecond);
    }
}
