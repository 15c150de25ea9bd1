using CsCheck;
using Qnn.Trainer.Backends;

namespace Qnn.Trainer.Tests;

public class GemmTests
{
    private static float[] Random(Random rng, int n, bool signs = false) =>
        Enumerable.Range(0, n).Select(_ => signs ? (rng.Next(2) == 0 ? -1f : 1f) : (float)(rng.NextDouble() * 2 - 1)).ToArray();

    /// <summary>A random product C = alpha · op(A) · op(B) + beta · C of the given sizes and transposes.</summary>
    private sealed record Case(int M, int N, int K, bool Ta, bool Tb, float[] A, float[] B, float[] C, float Alpha, float Beta)
    {
        public static Case Draw(int m, int n, int k, int trans, int betaCase)
        {
            var rng = new Random(m * 1000 + n * 7 + k);
            return new Case(m, n, k, (trans & 1) != 0, (trans & 2) != 0, Random(rng, m * k), Random(rng, k * n), Random(rng, m * n),
                betaCase == 2 ? 0.5f : 1f, betaCase == 1 ? 1f : betaCase == 2 ? -2f : 0f);
        }
    }

    [Fact]
    public void Blocked_gemm_matches_the_triple_loop_for_every_transpose_and_odd_sizes()
    {
        Gen.Select(Gen.Int[1, 140], Gen.Int[1, 300], Gen.Int[1, 300], Gen.Int[0, 3], Gen.Int[0, 3]).Sample(t =>
        {
            var (m, n, k, ta, tb, a, b, c, alpha, beta) = Case.Draw(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5);
            var r = (float[])c.Clone();
            CpuGemm.Multiply(a, ta, b, tb, c, m, n, k, alpha, beta);
            CpuGemm.Reference(a, ta, b, tb, r, m, n, k, alpha, beta);
            for (int i = 0; i < c.Length; i++)
                Assert.True(Math.Abs(c[i] - r[i]) <= 1e-4f * (1 + Math.Sqrt(k)), $"{m}x{n}x{k} ta={ta} tb={tb}: C[{i}] = {c[i]}, reference {r[i]}");
        }, iter: 40);
    }

    /// <summary>A C element as the kernels compute it: FMAs in k order, restarted every KC products.</summary>
    private static float FmaOrder(float[] a, bool ta, float[] b, bool tb, float c, int m, int n, int k, int i, int j, float alpha, float beta)
    {
        for (int p0 = 0; p0 < k; p0 += CpuGemm.KC)
        {
            float acc = 0f;
            for (int p = p0; p < Math.Min(k, p0 + CpuGemm.KC); p++)
                acc = MathF.FusedMultiplyAdd(ta ? a[p * m + i] : a[i * k + p], tb ? b[j * k + p] : b[p * n + j], acc);
            float v = alpha != 1f ? alpha * acc : acc;
            float bt = p0 == 0 ? beta : 1f;
            c = bt == 0f ? v : v + c * bt;
        }
        return c;
    }

    [Fact]
    public void Both_kernels_give_the_bits_of_the_fma_chain_for_every_transpose_and_edge()
    {
        Gen.Select(Gen.Int[1, 130], Gen.Int[1, 200], Gen.Int[1, 600], Gen.Int[0, 3], Gen.Int[0, 2]).Sample(t =>
        {
            var (m, n, k, ta, tb, a, b, c0, alpha, beta) = Case.Draw(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5);
            var wide = (float[])c0.Clone();
            var narrow = (float[])c0.Clone();
            CpuGemm.Multiply(a, ta, b, tb, wide, m, n, k, alpha, beta);
            CpuGemm.Multiply(a, ta, b, tb, narrow, m, n, k, alpha, beta, maxThreads: 1, allowVector512: false);
            Assert.Equal(narrow, wide);
            for (int i = 0; i < m; i += Math.Max(1, m / 7))
                for (int j = 0; j < n; j += Math.Max(1, n / 7))
                    Assert.Equal(FmaOrder(a, ta, b, tb, c0[i * n + j], m, n, k, i, j, alpha, beta), wide[i * n + j]);
        }, iter: 30);
    }

    [Fact]
    public void Gemm_is_bit_identical_whatever_the_thread_count()
    {
        var rng = new Random(5);
        int m = 250, n = 530, k = 700;
        var a = Random(rng, m * k);
        var b = Random(rng, k * n);
        var c1 = new float[m * n];
        var c2 = new float[m * n];
        CpuGemm.Multiply(a, false, b, true, c1, m, n, k, maxThreads: 1);
        CpuGemm.Multiply(a, false, b, true, c2, m, n, k);
        Assert.Equal(c1, c2);
    }

    /// <summary>
    /// The paths that the shapes choose, every one of this grid of sizes: several row and column tiles (both operands
    /// packed once and shared), one row tile (a batch), a small C over a deep K (its K blocks spread over the threads
    /// and added in k order), the transposed C of a tall, deep product and a row-major A read in place (K up to
    /// CpuGemm.ShallowK, 17 just past it); transposes, alpha and beta, the kernel and 2 to 5 threads drawn for each:
    /// every C element is the FMA chain, bit for bit, and the threads give the bits of one.
    /// </summary>
    [Fact]
    public void Every_tiling_path_gives_the_fma_chain_for_any_thread_count()
    {
        var rng = new Random(17);
        foreach (int m0 in new[] { 1, 9, 100, 130, 300 })
            foreach (int n0 in new[] { 7, 40, 260, 530 })
                foreach (int k0 in new[] { 1, 9, 16, 17, 100, 300, 1100, 2600 })
                {
                    var (m, n, k, ta, tb, a, b, c0, alpha, beta) = Case.Draw(m0, n0, k0, rng.Next(4), rng.Next(3));
                    int threads = rng.Next(2, 6);
                    bool wide = rng.Next(2) == 0;
                    var one = (float[])c0.Clone();
                    var many = (float[])c0.Clone();
                    CpuGemm.Multiply(a, ta, b, tb, one, m, n, k, alpha, beta, maxThreads: 1, allowVector512: wide);
                    CpuGemm.Multiply(a, ta, b, tb, many, m, n, k, alpha, beta, maxThreads: threads, allowVector512: wide);
                    Assert.Equal(one, many);
                    for (int i = 0; i < m; i += Math.Max(1, m / 5))
                        for (int j = 0; j < n; j += Math.Max(1, n / 5))
                            Assert.Equal(FmaOrder(a, ta, b, tb, c0[i * n + j], m, n, k, i, j, alpha, beta), many[i * n + j]);
                }
    }

    /// <summary>
    /// Every element of C against the FMA chain, for sizes drawn by <paramref name="sizes"/> (m, n, k) with every
    /// transpose, alpha and beta, either kernel and 1 to 5 threads.
    /// </summary>
    private static void EveryElementIsTheChain(Gen<(int, int, int)> sizes, int iter) =>
        Gen.Select(sizes, Gen.Int[0, 3], Gen.Int[0, 2], Gen.Int[1, 5], Gen.Bool).Sample(t =>
        {
            var (m, n, k, ta, tb, a, b, c0, alpha, beta) = Case.Draw(t.Item1.Item1, t.Item1.Item2, t.Item1.Item3, t.Item2, t.Item3);
            var c = (float[])c0.Clone();
            CpuGemm.Multiply(a, ta, b, tb, c, m, n, k, alpha, beta, maxThreads: t.Item4, allowVector512: t.Item5);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    Assert.Equal(FmaOrder(a, ta, b, tb, c0[i * n + j], m, n, k, i, j, alpha, beta), c[i * n + j]);
        }, iter: iter);

    /// <summary>
    /// A shallow K (the first conv's im2col has K = 9) with a row-major A, read in place by the micro-kernel: edge rows
    /// of the last panel read A's last row again and must not be stored; a transposed A (packed) alongside.
    /// </summary>
    [Fact]
    public void A_read_in_place_gives_the_fma_chain_in_every_element() =>
        EveryElementIsTheChain(Gen.Select(Gen.Int[1, 700], Gen.Int[1, 70], Gen.Int[1, CpuGemm.ShallowK]), 60);

    /// <summary>
    /// One row tile (M up to 128, a batch) over several K blocks with a row-major B: the first row panel's kernel reads
    /// B's rows and stores the packed panel that the other row panels read; an edge panel of columns is packed apart;
    /// a transposed B (packed) alongside.
    /// </summary>
    [Fact]
    public void B_copied_by_the_first_row_panel_gives_the_fma_chain_in_every_element() =>
        EveryElementIsTheChain(Gen.Select(Gen.Int[1, 128], Gen.Int[1, 300], Gen.Int[1, 800]), 40);

    [Fact]
    public void Integer_products_are_exact_in_float()
    {
        // Levels are odd integers: the trainer's accumulators must be the runtime's integers, not approximations.
        var rng = new Random(9);
        int m = 33, n = 65, k = 784;
        var a = Enumerable.Range(0, m * k).Select(_ => (float)(2 * rng.Next(256) - 255)).ToArray();
        var b = Enumerable.Range(0, n * k).Select(_ => (float)(2 * rng.Next(4) - 3)).ToArray();
        var c = new float[m * n];
        CpuGemm.Multiply(a, false, b, true, c, m, n, k);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                long s = 0;
                for (int p = 0; p < k; p++) s += (long)a[i * k + p] * (long)b[j * k + p];
                Assert.Equal(s, (long)c[i * n + j]);
            }
    }

    [Fact]
    public void Xnor_gemm_equals_the_float_product_of_signs()
    {
        Gen.Select(Gen.Int[1, 40], Gen.Int[1, 70], Gen.Int[1, 200]).Sample(t =>
        {
            var (m, n, k) = t;
            var rng = new Random(m + 100 * n + 10000 * k);
            var a = Random(rng, m * k, signs: true);
            var b = Random(rng, n * k, signs: true);
            var c = new float[m * n];
            var r = new float[m * n];
            SignGemm.Multiply(a, b, c, m, n, k);
            CpuGemm.Reference(a, false, b, true, r, m, n, k);
            Assert.Equal(r, c);
        }, iter: 60);
    }
}
