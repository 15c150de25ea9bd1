using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Qnn.Trainer.Backends;

/// <summary>
/// The CPU backend's single-precision matrix multiply: cache-blocked (Goto/BLIS style) with packed panels and a
/// register-blocked micro-kernel of fused multiply-adds — 6 × 32 with Vector512 where the CPU has AVX-512, 6 × 16 with
/// Vector256 elsewhere — across all cores. Macro tiles of C are the unit of parallel work. Every C element is the same
/// chain of FMAs in the same k order (restarted every <see cref="KC"/> products) whatever the kernel width, the tile
/// shape or the thread count, so results are bit-reproducible and both kernels give the same bits. Public so that
/// <c>qnn bench cpu</c> can time it.
/// </summary>
public static unsafe class CpuGemm
{
    private const int MR = 6;
    /// <summary>Depth of one packed block: a 6×256 A panel and a 256×NR B panel stay in L1. The float sum of a C
    /// element restarts every KC products (trainer/Qnn.Trainer.Gpu mirrors it).</summary>
    public const int KC = 256;
    private const int MC = 120;   // rows of a macro tile (a batch of 100 is one tile)
    private const int NC = 256;   // columns of a macro tile: the packed B block (256 KiB) stays in L2

    [ThreadStatic] private static float[]? packA, packB, packAllA, swapC;
    /// <summary>The largest C computed transposed (see <see cref="Multiply"/>): 256 KiB of scratch.</summary>
    private const int SwapMaxElements = 1 << 16;

    /// <summary>This thread's buffer in <paramref name="slot"/>, grown to at least <paramref name="length"/> floats.</summary>
    private static float[] Scratch(ref float[]? slot, int length) =>
        slot is { } buffer && buffer.Length >= length ? buffer : slot = new float[length];

    /// <summary>dst[n×m] = src[m×n]ᵀ.</summary>
    private static void Transpose(float[] src, int m, int n, float[] dst)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) dst[j * m + i] = src[i * n + j];
    }

    /// <summary>
    /// C[m×n] = alpha · op(A) · op(B) + beta · C, row-major. op(A) is m×k (A is stored k×m when
    /// <paramref name="transposeA"/>); op(B) is k×n (B is stored n×k when <paramref name="transposeB"/>).
    /// <paramref name="allowVector512"/> false keeps to the Vector256 kernel (the tests compare the two).
    /// </summary>
    public static void Multiply(float[] a, bool transposeA, float[] b, bool transposeB, float[] c, int m, int n, int k,
        float alpha = 1f, float beta = 0f, int maxThreads = -1, bool allowVector512 = true)
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
        if (m > n && k >= m && (long)m * n <= SwapMaxElements)
        {
            // A deep product into a small C taller than wide (a conv's weight gradient: filters × patch, summed over
            // every pixel of the batch) runs several times faster as Cᵀ = op(B)ᵀ · op(A)ᵀ, whose wider N fills the
            // micro-kernel's columns. Each element is the same chain of FMAs (a · b = b · a exactly), so the bits
            // are the same; a test checks it against the FMA chain.
            float[] ct = Scratch(ref swapC, m * n);
            if (beta != 0f) Transpose(c, m, n, ct);
            Multiply(b, !transposeB, a, !transposeA, ct, n, m, k, alpha, beta, maxThreads, allowVector512);
            Transpose(ct, n, m, c);
            return;
        }
        bool wide = allowVector512 && Vector512.IsHardwareAccelerated;
        int nr = 2 * (wide ? Lanes512.Count : Lanes256.Count);
        int threads = maxThreads > 0 ? Math.Min(maxThreads, Environment.ProcessorCount) : Environment.ProcessorCount;
        bool parallel = threads > 1 && (long)m * n * k >= 200_000;
        // Narrower column tiles when there are few row tiles (a batch of 100 is one), so that every core gets
        // several tiles: the tiling never changes a C element's sum.
        int tilesM = (m + MC - 1) / MC, nc = NC;
        while (parallel && nc > 2 * nr && tilesM * ((n + nc - 1) / nc) < 4 * threads) nc /= 2;
        int tilesN = (n + nc - 1) / nc, tiles = tilesM * tilesN;
        // One row tile (a batch-sized M) shared by several column tiles: pack all of op(A) once, here, instead of once
        // per tile. It is the calling thread's buffer; the workers only read it while this call waits for them.
        float[]? sharedA = null;
        if (tilesM == 1 && tiles > 1)
        {
            int rows = (m + MR - 1) / MR * MR;
            sharedA = Scratch(ref packAllA, rows * k);
            for (int p0 = 0; p0 < k; p0 += KC) PackA(a, transposeA, m, k, 0, m, p0, Math.Min(KC, k - p0), sharedA, rows * p0);
        }
        var job = new Job(a, transposeA, b, transposeB, c, m, n, k, alpha, beta, tilesN, nc, nr, sharedA);
        if (tiles == 1 || !parallel)
        {
            for (int t = 0; t < tiles; t++) job.Tile(t);
        }
        else
        {
            Parallel.For(0, tiles, new ParallelOptions { MaxDegreeOfParallelism = threads }, job.Tile);
        }
    }

    private sealed class Job(float[] a, bool ta, float[] b, bool tb, float[] c, int m, int n, int k, float alpha, float beta,
        int tilesN, int ncMax, int nr, float[]? sharedA)
    {
        public void Tile(int tile)
        {
            if (nr == 2 * Lanes512.Count) Tile<Lanes512>(tile);
            else Tile<Lanes256>(tile);
        }

        private void Tile<V>(int tile) where V : struct, ILanes<V>
        {
            int i0 = tile / tilesN * MC, j0 = tile % tilesN * ncMax;
            int mc = Math.Min(MC, m - i0), nc = Math.Min(ncMax, n - j0);
            int mPanels = (mc + MR - 1) / MR, nPanels = (nc + nr - 1) / nr;
            var pa = sharedA ?? (packA ??= new float[MC * KC]);
            var pb = packB ??= new float[(NC + 32) * KC];
            for (int p0 = 0; p0 < k; p0 += KC)
            {
                int kc = Math.Min(KC, k - p0);
                int aOffset = 0;
                if (sharedA is null) PackA(a, ta, m, k, i0, mc, p0, kc, pa, 0);
                else aOffset = mPanels * MR * p0;
                PackB(b, tb, n, k, j0, nc, p0, kc, pb, nr);
                bool first = p0 == 0;
                fixed (float* pA = pa, pB = pb, pC = c)
                {
                    for (int jp = 0; jp < nPanels; jp++)
                    {
                        int j = j0 + jp * nr, cols = Math.Min(nr, n - j);
                        for (int ip = 0; ip < mPanels; ip++)
                        {
                            int i = i0 + ip * MR, rows = Math.Min(MR, m - i);
                            Kernel<V>(pA + aOffset + ip * MR * kc, pB + jp * nr * kc, kc, pC + (long)i * n + j, n, rows, cols, alpha, first ? beta : 1f);
                        }
                    }
                }
            }
        }
    }

    /// <summary>A block of op(A) as MR-row panels, k-major inside a panel, from dst[offset]; rows past m are zero.</summary>
    private static void PackA(float[] a, bool ta, int m, int k, int i0, int mc, int p0, int kc, float[] dst, int offset)
    {
        int panels = (mc + MR - 1) / MR;
        for (int ip = 0; ip < panels; ip++)
        {
            int baseRow = i0 + ip * MR, o = offset + ip * MR * kc;
            int rows = Math.Min(MR, i0 + mc - baseRow);
            if (ta)
            {
                // A is stored k×m: the panel's rows lie side by side in every stored row, read in order.
                for (int p = 0; p < kc; p++)
                {
                    long s = (long)(p0 + p) * m + baseRow;
                    int d = o + p * MR, r = 0;
                    for (; r < rows; r++) dst[d + r] = a[s + r];
                    for (; r < MR; r++) dst[d + r] = 0f;
                }
                continue;
            }
            for (int r = 0; r < MR; r++)
            {
                if (r >= rows)
                {
                    for (int p = 0; p < kc; p++) dst[o + p * MR + r] = 0f;
                    continue;
                }
                long s = (long)(baseRow + r) * k + p0;
                for (int p = 0; p < kc; p++) dst[o + p * MR + r] = a[s + p];
            }
        }
    }

    /// <summary>A block of op(B) as nr-column panels, k-major inside a panel; columns past n are zero.</summary>
    private static void PackB(float[] b, bool tb, int n, int k, int j0, int nc, int p0, int kc, float[] dst, int nr)
    {
        int panels = (nc + nr - 1) / nr;
        for (int jp = 0; jp < panels; jp++)
        {
            int baseCol = j0 + jp * nr, o = jp * nr * kc;
            int cols = Math.Min(nr, j0 + nc - baseCol);
            if (tb)
            {
                PackTransposed(b, k, baseCol, cols, p0, kc, dst, o, nr);
                continue;
            }
            if (cols == nr)
            {
                for (int p = 0; p < kc; p++)
                    b.AsSpan((int)((long)(p0 + p) * n + baseCol), nr).CopyTo(dst.AsSpan(o + p * nr, nr));
                continue;
            }
            for (int p = 0; p < kc; p++)
            {
                long s = (long)(p0 + p) * n + baseCol;
                int d = o + p * nr, jj = 0;
                for (; jj < cols; jj++) dst[d + jj] = b[s + jj];
                for (; jj < nr; jj++) dst[d + jj] = 0f;
            }
        }
    }

    /// <summary>
    /// One nr-column panel of op(B) when B is stored n×k: column jj of the panel is stored row baseCol + jj. Blocks of
    /// 8 rows × 8 k are transposed in registers (AVX); the rest, and CPUs without AVX, go element by element.
    /// Gathering the panel column-wise instead touches nr lines 4 KiB apart at once, which share one L1 set.
    /// </summary>
    private static void PackTransposed(float[] b, int k, int baseCol, int cols, int p0, int kc, float[] dst, int o, int nr)
    {
        fixed (float* pb = b, pd = dst)
        {
            int jj = 0;
            if (Avx.IsSupported)
            {
                for (; jj + 8 <= cols; jj += 8)
                {
                    float* src = pb + (long)(baseCol + jj) * k + p0;
                    int p = 0;
                    for (; p + 8 <= kc; p += 8)
                    {
                        float* s = src + p;
                        Transpose8x8(Avx.LoadVector256(s), Avx.LoadVector256(s + k), Avx.LoadVector256(s + 2 * k),
                            Avx.LoadVector256(s + 3 * k), Avx.LoadVector256(s + 4 * k), Avx.LoadVector256(s + 5 * k),
                            Avx.LoadVector256(s + 6 * k), Avx.LoadVector256(s + 7 * k), pd + o + p * nr + jj, nr);
                    }
                    for (; p < kc; p++)
                        for (int q = 0; q < 8; q++) pd[o + p * nr + jj + q] = src[(long)q * k + p];
                }
            }
            for (; jj < nr; jj++)
            {
                if (jj >= cols)
                {
                    for (int p = 0; p < kc; p++) pd[o + p * nr + jj] = 0f;
                    continue;
                }
                float* src = pb + (long)(baseCol + jj) * k + p0;
                for (int p = 0; p < kc; p++) pd[o + p * nr + jj] = src[p];
            }
        }
    }

    /// <summary>Stores column q of the 8×8 block with rows r0…r7 at d + q·stride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(Vector256<float> r0, Vector256<float> r1, Vector256<float> r2, Vector256<float> r3,
        Vector256<float> r4, Vector256<float> r5, Vector256<float> r6, Vector256<float> r7, float* d, int stride)
    {
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var s0 = Avx.Shuffle(t0, t2, 0x44); var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44); var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44); var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44); var s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(d, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(d + stride, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(d + 2 * stride, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(d + 3 * stride, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(d + 4 * stride, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(d + 5 * stride, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(d + 6 * stride, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(d + 7 * stride, Avx.Permute2x128(s3, s7, 0x31));
    }

    /// <summary>
    /// C[rows×cols] = alpha · Apanel · Bpanel + beta · C for one MR × 2L tile, L the lanes of <typeparamref name="V"/>
    /// (6×16 with Vector256, 6×32 with Vector512; the JIT compiles one body per lane type). Edges go through a buffer.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    private static void Kernel<V>(float* a, float* b, int kc, float* c, int ldc, int rows, int cols, float alpha, float beta)
        where V : struct, ILanes<V>
    {
        int lanes = V.Count, nr = 2 * lanes;
        V c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = V.Load(b);
            var b1 = V.Load(b + lanes);
            var a0 = V.Broadcast(a[0]);
            c00 = V.Fma(a0, b0, c00); c01 = V.Fma(a0, b1, c01);
            var a1 = V.Broadcast(a[1]);
            c10 = V.Fma(a1, b0, c10); c11 = V.Fma(a1, b1, c11);
            var a2 = V.Broadcast(a[2]);
            c20 = V.Fma(a2, b0, c20); c21 = V.Fma(a2, b1, c21);
            var a3 = V.Broadcast(a[3]);
            c30 = V.Fma(a3, b0, c30); c31 = V.Fma(a3, b1, c31);
            var a4 = V.Broadcast(a[4]);
            c40 = V.Fma(a4, b0, c40); c41 = V.Fma(a4, b1, c41);
            var a5 = V.Broadcast(a[5]);
            c50 = V.Fma(a5, b0, c50); c51 = V.Fma(a5, b1, c51);
            a += MR;
            b += nr;
        }
        if (rows == MR && cols == nr)
        {
            StoreTile(c, ldc, lanes, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, alpha, beta);
            return;
        }
        // An edge tile goes into a buffer first, then its rows × cols corner into C.
        float* tile = stackalloc float[MR * 32];
        StoreTile(tile, nr, lanes, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, 1f, 0f);
        StoreEdge(tile, nr, c, ldc, rows, cols, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTile<V>(float* c, int ldc, int lanes, V c00, V c01, V c10, V c11, V c20, V c21, V c30, V c31,
        V c40, V c41, V c50, V c51, float alpha, float beta) where V : struct, ILanes<V>
    {
        StoreRow(c, lanes, c00, c01, alpha, beta); StoreRow(c + ldc, lanes, c10, c11, alpha, beta);
        StoreRow(c + 2 * ldc, lanes, c20, c21, alpha, beta); StoreRow(c + 3 * ldc, lanes, c30, c31, alpha, beta);
        StoreRow(c + 4 * ldc, lanes, c40, c41, alpha, beta); StoreRow(c + 5 * ldc, lanes, c50, c51, alpha, beta);
    }

    /// <summary>The rows × cols corner of a tile that C does not fill: the same arithmetic as <see cref="StoreRow"/>.</summary>
    private static void StoreEdge(float* tile, int nr, float* c, int ldc, int rows, int cols, float alpha, float beta)
    {
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++)
            {
                float v = alpha != 1f ? alpha * tile[r * nr + j] : tile[r * nr + j];
                c[r * ldc + j] = beta == 0f ? v : v + c[r * ldc + j] * beta;
            }
    }

    /// <summary>alpha · (lo, hi) (+ beta · C) into a C row at c and c + lanes; rounding as in <see cref="StoreEdge"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<V>(float* c, int lanes, V lo, V hi, float alpha, float beta) where V : struct, ILanes<V>
    {
        if (alpha != 1f)
        {
            lo = V.Scale(lo, alpha);
            hi = V.Scale(hi, alpha);
        }
        if (beta != 0f)
        {
            lo = V.Add(lo, V.Scale(V.Load(c), beta));
            hi = V.Add(hi, V.Scale(V.Load(c + lanes), beta));
        }
        V.Store(lo, c);
        V.Store(hi, c + lanes);
    }

    /// <summary>What the micro-kernel needs of a vector of float lanes.</summary>
    private interface ILanes<V> where V : struct, ILanes<V>
    {
        static abstract int Count { get; }
        static abstract V Load(float* p);
        static abstract void Store(V v, float* p);
        static abstract V Broadcast(float x);
        static abstract V Fma(V a, V b, V c);
        static abstract V Scale(V v, float x);
        static abstract V Add(V a, V b);
    }

    private readonly struct Lanes256(Vector256<float> v) : ILanes<Lanes256>
    {
        private readonly Vector256<float> _v = v;
        public static int Count => Vector256<float>.Count;
        public static Lanes256 Load(float* p) => new(Vector256.Load(p));
        public static void Store(Lanes256 v, float* p) => v._v.Store(p);
        public static Lanes256 Broadcast(float x) => new(Vector256.Create(x));
        public static Lanes256 Fma(Lanes256 a, Lanes256 b, Lanes256 c) => new(Vector256.FusedMultiplyAdd(a._v, b._v, c._v));
        public static Lanes256 Scale(Lanes256 v, float x) => new(v._v * x);
        public static Lanes256 Add(Lanes256 a, Lanes256 b) => new(a._v + b._v);
    }

    private readonly struct Lanes512(Vector512<float> v) : ILanes<Lanes512>
    {
        private readonly Vector512<float> _v = v;
        public static int Count => Vector512<float>.Count;
        public static Lanes512 Load(float* p) => new(Vector512.Load(p));
        public static void Store(Lanes512 v, float* p) => v._v.Store(p);
        public static Lanes512 Broadcast(float x) => new(Vector512.Create(x));
        public static Lanes512 Fma(Lanes512 a, Lanes512 b, Lanes512 c) => new(Vector512.FusedMultiplyAdd(a._v, b._v, c._v));
        public static Lanes512 Scale(Lanes512 v, float x) => new(v._v * x);
        public static Lanes512 Add(Lanes512 a, Lanes512 b) => new(a._v + b._v);
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
