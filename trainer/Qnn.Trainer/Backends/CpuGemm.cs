using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Qnn.Trainer.Backends;

/// <summary>
/// The CPU backend's single-precision matrix multiply: cache-blocked (Goto/BLIS style) with packed panels and a
/// 6 × 16 register-blocked micro-kernel of Vector256 fused multiply-adds, across all cores. Macro tiles of C are the
/// unit of parallel work and every C element is reduced in the same k order whatever the thread count, so results
/// are bit-reproducible. Public so that <c>qnn bench cpu</c> can time it.
/// </summary>
public static unsafe class CpuGemm
{
    private const int MR = 6, NR = 16;
    private const int KC = 256;   // depth of one packed block: a 6×256 A panel and a 256×16 B panel stay in L1
    private const int MC = 120;   // rows of a macro tile (a batch of 100 is one tile)
    private const int NC = 256;   // columns of a macro tile: the packed B block (256 KiB) stays in L2

    [ThreadStatic] private static float[]? packA, packB;

    /// <summary>
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, row-major. op(A) is m×k (A is stored k×m when
    /// <paramref name="transposeA"/>); op(B) is k×n (B is stored n×k when <paramref name="transposeB"/>).
    /// </summary>
    public static void Multiply(float[] a, bool transposeA, float[] b, bool transposeB, float[] c, int m, int n, int k,
        float alpha = 1f, float beta = 0f, int maxThreads = -1)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException("negative GEMM size");
        if ((long)m * k > a.Length || (long)k * n > b.Length || (long)m * n > c.Length)
            throw new ArgumentException($"GEMM {m}x{n}x{k}: operand too small (A {a.Length}, B {b.Length}, C {c.Length})");
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            for (int i = 0; i < m * n; i++) c[i] = beta == 0f ? 0f : beta * c[i];
            return;
        }
        int tilesM = (m + MC - 1) / MC, tilesN = (n + NC - 1) / NC, tiles = tilesM * tilesN;
        var job = new Job(a, transposeA, b, transposeB, c, m, n, k, alpha, beta, tilesN);
        if (tiles == 1 || maxThreads == 1 || (long)m * n * k < 200_000)
        {
            for (int t = 0; t < tiles; t++) job.Tile(t);
        }
        else
        {
            var options = new ParallelOptions { MaxDegreeOfParallelism = maxThreads };
            Parallel.For(0, tiles, options, job.Tile);
        }
    }

    private sealed class Job(float[] a, bool ta, float[] b, bool tb, float[] c, int m, int n, int k, float alpha, float beta, int tilesN)
    {
        public void Tile(int tile)
        {
            int i0 = tile / tilesN * MC, j0 = tile % tilesN * NC;
            int mc = Math.Min(MC, m - i0), nc = Math.Min(NC, n - j0);
            int mPanels = (mc + MR - 1) / MR, nPanels = (nc + NR - 1) / NR;
            var pa = packA ??= new float[MC * KC];
            var pb = packB ??= new float[NC * KC];
            for (int p0 = 0; p0 < k; p0 += KC)
            {
                int kc = Math.Min(KC, k - p0);
                PackA(a, ta, m, k, i0, mc, p0, kc, pa);
                PackB(b, tb, n, k, j0, nc, p0, kc, pb);
                bool first = p0 == 0;
                fixed (float* pA = pa, pB = pb, pC = c)
                {
                    for (int jp = 0; jp < nPanels; jp++)
                    {
                        int j = j0 + jp * NR, cols = Math.Min(NR, n - j);
                        for (int ip = 0; ip < mPanels; ip++)
                        {
                            int i = i0 + ip * MR, rows = Math.Min(MR, m - i);
                            Kernel(pA + ip * MR * kc, pB + jp * NR * kc, kc, pC + (long)i * n + j, n, rows, cols,
                                alpha, first ? beta : 1f);
                        }
                    }
                }
            }
        }
    }

    /// <summary>A block of op(A) as MR-row panels, k-major inside a panel; rows past m are zero.</summary>
    private static void PackA(float[] a, bool ta, int m, int k, int i0, int mc, int p0, int kc, float[] dst)
    {
        int panels = (mc + MR - 1) / MR;
        for (int ip = 0; ip < panels; ip++)
        {
            int baseRow = i0 + ip * MR, o = ip * MR * kc;
            for (int r = 0; r < MR; r++)
            {
                int row = baseRow + r;
                if (row >= i0 + mc)
                {
                    for (int p = 0; p < kc; p++) dst[o + p * MR + r] = 0f;
                }
                else if (ta)
                {
                    for (int p = 0; p < kc; p++) dst[o + p * MR + r] = a[(long)(p0 + p) * m + row];
                }
                else
                {
                    long s = (long)row * k + p0;
                    for (int p = 0; p < kc; p++) dst[o + p * MR + r] = a[s + p];
                }
            }
        }
    }

    /// <summary>A block of op(B) as NR-column panels, k-major inside a panel; columns past n are zero.</summary>
    private static void PackB(float[] b, bool tb, int n, int k, int j0, int nc, int p0, int kc, float[] dst)
    {
        int panels = (nc + NR - 1) / NR;
        for (int jp = 0; jp < panels; jp++)
        {
            int baseCol = j0 + jp * NR, o = jp * NR * kc;
            int cols = Math.Min(NR, j0 + nc - baseCol);
            if (!tb && cols == NR)
            {
                for (int p = 0; p < kc; p++)
                    b.AsSpan((int)((long)(p0 + p) * n + baseCol), NR).CopyTo(dst.AsSpan(o + p * NR, NR));
                continue;
            }
            if (tb)
            {
                // B is stored n×k: 16 rows of it are read side by side, each sequentially, and the panel is
                // written contiguously.
                fixed (float* pb = b, pd = dst)
                {
                    float* d = pd + o;
                    float* r0 = pb + (long)baseCol * k + p0;
                    for (int p = 0; p < kc; p++, d += NR)
                    {
                        float* src = r0 + p;
                        int jj = 0;
                        for (; jj < cols; jj++) d[jj] = src[(long)jj * k];
                        for (; jj < NR; jj++) d[jj] = 0f;
                    }
                }
                continue;
            }
            for (int jj = 0; jj < NR; jj++)
            {
                int col = baseCol + jj;
                if (jj >= cols)
                {
                    for (int p = 0; p < kc; p++) dst[o + p * NR + jj] = 0f;
                }
                else
                {
                    for (int p = 0; p < kc; p++) dst[o + p * NR + jj] = b[(long)(p0 + p) * n + col];
                }
            }
        }
    }

    /// <summary>C[rows×cols] = alpha · Apanel · Bpanel + beta · C for one 6×16 tile (edges go through a buffer).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel(float* a, float* b, int kc, float* c, int ldc, int rows, int cols, float alpha, float beta)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var a0 = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(a0, b0, c00); c01 = Vector256.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(a1, b0, c10); c11 = Vector256.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(a2, b0, c20); c21 = Vector256.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(a3, b0, c30); c31 = Vector256.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(a4, b0, c40); c41 = Vector256.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(a5, b0, c50); c51 = Vector256.FusedMultiplyAdd(a5, b1, c51);
            a += MR;
            b += NR;
        }
        if (rows == MR && cols == NR)
        {
            Store(c, c00, c01, alpha, beta); Store(c + ldc, c10, c11, alpha, beta);
            Store(c + 2 * ldc, c20, c21, alpha, beta); Store(c + 3 * ldc, c30, c31, alpha, beta);
            Store(c + 4 * ldc, c40, c41, alpha, beta); Store(c + 5 * ldc, c50, c51, alpha, beta);
            return;
        }
        float* tile = stackalloc float[MR * NR];
        c00.Store(tile); c01.Store(tile + 8); c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40); c30.Store(tile + 48); c31.Store(tile + 56);
        c40.Store(tile + 64); c41.Store(tile + 72); c50.Store(tile + 80); c51.Store(tile + 88);
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++)
            {
                float v = alpha * tile[r * NR + j];
                c[r * ldc + j] = beta == 0f ? v : v + beta * c[r * ldc + j];
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, Vector256<float> lo, Vector256<float> hi, float alpha, float beta)
    {
        if (alpha != 1f)
        {
            lo *= alpha;
            hi *= alpha;
        }
        if (beta != 0f)
        {
            lo += Vector256.Load(c) * beta;
            hi += Vector256.Load(c + 8) * beta;
        }
        lo.Store(c);
        hi.Store(c + 8);
    }

    /// <summary>The plain triple loop (double accumulation): the reference the tests compare with.</summary>
    public static void Reference(float[] a, bool transposeA, float[] b, bool transposeB, float[] c, int m, int n, int k, float alpha = 1f, float beta = 0f)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (double)(transposeA ? a[p * m + i] : a[i * k + p]) * (transposeB ? b[j * k + p] : b[p * n + j]);
                c[i * n + j] = (float)(alpha * s + (beta == 0f ? 0 : beta * c[i * n + j]));
            }
    }
}
