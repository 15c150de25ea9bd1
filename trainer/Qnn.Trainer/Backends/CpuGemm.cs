using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Qnn.Trainer.Backends;

/// <summary>
/// The CPU backend's single-precision matrix multiply: cache-blocked (Goto/BLIS style) with packed panels and a
/// register-blocked micro-kernel of fused multiply-adds — 8 × 32 with Vector512 where the CPU has AVX-512, 8 × 16 with
/// Vector256 elsewhere — across all cores. Macro tiles of C are the unit of parallel work; an operand that several
/// tiles read is packed once per call, and a row-major A over a shallow K (<see cref="ShallowK"/>) is not packed at all. Every C element is the same chain of FMAs in the same k order (restarted every
/// <see cref="KC"/> products) whatever the kernel width, the tile shape or the thread count, so results are
/// bit-reproducible and both kernels give the same bits. Public so that <c>qnn bench cpu</c> can time it.
/// </summary>
public static unsafe class CpuGemm
{
    /// <summary>Rows of the micro-kernel's register tile: 8 × 2 vectors of columns, 16 accumulators (of the 32 vector
    /// registers of AVX-512), and packing a panel of op(A) is whole 8 × 8 register transposes.</summary>
    private const int MR = 8;
    /// <summary>Depth of one packed block: an 8×256 A panel and a 256×NR B panel stay in L1. The float sum of a C
    /// element restarts every KC products (trainer/Qnn.Trainer.Gpu mirrors it).</summary>
    public const int KC = 256;
    private const int MC = 128;   // rows of a macro tile (a batch of 100 is one tile)
    private const int NC = 256;   // columns of a macro tile: the packed B block (256 KiB) stays in L2
    /// <summary>The largest operand packed once for all tiles (16 MiB): past it each tile packs its own block.</summary>
    private const int SharedMaxElements = 1 << 22;
    /// <summary>The largest C whose K blocks are spread over the cores (256 KiB, in L2); their sums, one C per block,
    /// are held to <see cref="SharedMaxElements"/>.</summary>
    private const int SplitMaxElements = 1 << 16;

    [ThreadStatic] private static float[]? packA, packB, packAllA, packAllB, swapC, blockSums;
    /// <summary>The largest C computed transposed (see <see cref="Multiply"/>): 256 KiB of scratch.</summary>
    private const int SwapMaxElements = 1 << 16;
    /// <summary>
    /// The deepest K at which a row-major op(A) is read in place instead of packed. With K = 9 (the first conv's im2col,
    /// 3 × 3 × 1) a panel's pack (one 8 × 8 transpose and a column) costs as much as its 9 steps of FMAs, and the product
    /// ran 1.75× faster in place (BENCHMARKS.md); a deep A is read many times per panel and gains from the packed copy.
    /// </summary>
    public const int ShallowK = 16;

    /// <summary>Whether <see cref="Multiply"/> runs its Vector512 kernel on this CPU (else the Vector256 one).</summary>
    public static bool Wide => Vector512.IsHardwareAccelerated;

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
        // maxThreads is taken as given (the tests run more threads than the machine has cores); the default is every core.
        int threads = maxThreads > 0 ? maxThreads : Environment.ProcessorCount;
        bool parallel = threads > 1 && (long)m * n * k >= 200_000;
        // Narrower column tiles when there are few row tiles (a batch of 100 is one), so that every core gets
        // several tiles: the tiling never changes a C element's sum.
        int tilesM = (m + MC - 1) / MC, nc = NC;
        while (parallel && nc > 2 * nr && tilesM * ((n + nc - 1) / nc) < 4 * threads) nc /= 2;
        int tilesN = (n + nc - 1) / nc, tiles = tilesM * tilesN;
        int blocks = (k + KC - 1) / KC;
        if (parallel && (long)m * n <= SplitMaxElements && blocks >= 2 * threads && (long)m * n * blocks <= SharedMaxElements)
        {
            // A small C summed over a deep K (a conv's weight gradient): tiles of C are few, and each would read all of
            // both operands again. The K blocks go to the cores instead, in runs of consecutive blocks. The first run
            // adds its blocks into C as one core does; every other block's sum (its own FMA chain from zero, alpha 1)
            // goes to a slice of scratch, and C takes them afterwards in k order with StoreEdge's arithmetic,
            // C = alpha · sum + C: the bits of one core.
            int runs = Math.Min(blocks, 4 * threads), perRun = (blocks + runs - 1) / runs;
            runs = (blocks + perRun - 1) / perRun;
            float[] sums = Scratch(ref blockSums, (blocks - perRun) * m * n);
            var split = new Job(a, transposeA, b, transposeB, c, m, n, k, alpha, beta, 1, n, nr, null, 0, null, 0, false, false);
            Spread.Run(run => split.Run(run * perRun, Math.Min(blocks, (run + 1) * perRun), perRun, sums), runs, threads);
            AddBlockSums(sums, blocks - perRun, c, m * n, alpha);
            return;
        }
        // An operand that several tiles share (op(A) when there are several column tiles, op(B) when there are
        // several row tiles) is packed once, here, instead of once per tile, its K blocks spread over the threads.
        // These are the calling thread's buffers; the workers only use them while this call waits for them.
        int rowsPad = (m + MR - 1) / MR * MR, colsPad = (n + nr - 1) / nr * nr;
        bool aInPlace = !transposeA && k <= ShallowK;
        // One row tile (a batch's input gradient dy · W): each B block is read by one tile only, so its copy is made
        // by the first row panel's kernel as it reads B's rows, and the other panels read the copy.
        bool bFused = !transposeB && tilesM == 1;
        float[]? sharedA = null, sharedB = null;
        if (!aInPlace && tilesN > 1 && (long)rowsPad * k <= SharedMaxElements)
        {
            float[] pa = sharedA = Scratch(ref packAllA, rowsPad * k);
            Blocks(k, parallel ? threads : 1, p0 => PackA(a, transposeA, m, k, 0, m, p0, Math.Min(KC, k - p0), pa, rowsPad * p0));
        }
        if (tilesM > 1 && (long)colsPad * k <= SharedMaxElements)
        {
            float[] pb = sharedB = Scratch(ref packAllB, colsPad * k);
            Blocks(k, parallel ? threads : 1, p0 => PackB(b, transposeB, n, k, 0, n, p0, Math.Min(KC, k - p0), pb, colsPad * p0, nr));
        }
        var job = new Job(a, transposeA, b, transposeB, c, m, n, k, alpha, beta, tilesN, nc, nr, sharedA, rowsPad, sharedB, colsPad, aInPlace, bFused);
        if (tiles == 1 || !parallel)
        {
            for (int t = 0; t < tiles; t++) job.Tile(t);
        }
        else
        {
            Spread.Run(job.Tile, tiles, threads);
        }
    }

    /// <summary>
    /// c[i] = alpha · sums[q·len + i] + c[i] for q = 0 … count − 1 in order, StoreEdge's arithmetic per element: a
    /// chunk of C (4 KiB, in L1) takes every block's sum before the next chunk, one pass over C instead of one per block
    /// (a conv weight gradient has 60–70 of them), in Vector256 steps (the same multiply and add per lane).
    /// </summary>
    private static void AddBlockSums(float[] sums, int count, float[] c, int len, float alpha)
    {
        const int Chunk = 1024;
        fixed (float* ps = sums, pc = c)
        {
            for (int c0 = 0; c0 < len; c0 += Chunk)
            {
                int end = Math.Min(len, c0 + Chunk);
                for (int q = 0; q < count; q++)
                {
                    float* s = ps + (long)q * len;
                    int i = c0;
                    for (; i + 8 <= end; i += 8)
                    {
                        var v = Vector256.Load(s + i);
                        (alpha != 1f ? v * alpha + Vector256.Load(pc + i) : v + Vector256.Load(pc + i)).Store(pc + i);
                    }
                    for (; i < end; i++) pc[i] = (alpha != 1f ? alpha * s[i] : s[i]) + pc[i];
                }
            }
        }
    }

    /// <summary>Runs pack(p0) for every K block start p0 = 0, KC, 2·KC, … below k, on up to that many threads.</summary>
    private static void Blocks(int k, int threads, Action<int> pack)
    {
        int blocks = (k + KC - 1) / KC;
        if (threads > 1 && blocks > 1) Spread.Run(q => pack(q * KC), blocks, threads);
        else for (int p0 = 0; p0 < k; p0 += KC) pack(p0);
    }

    /// <summary>
    /// Runs body(0 … count − 1) on the calling thread and on up to threads − 1 thread-pool threads, each taking the
    /// next index when it comes free. The caller waits only for indices that a helper has taken: a helper that starts
    /// after the work is gone returns at once. On a loaded machine, where a pool thread waits long for a core, the
    /// caller does the work alone instead of waiting; Parallel.For waits for every helper it queued to start, and ran
    /// the MLP's GEMMs at a fifth of one thread's speed under a load of 30 on this machine's 2 cores.
    /// </summary>
    private sealed class Spread
    {
        private readonly Action<int> body;
        private readonly int count;
        private int next = -1, done;
        private Exception? error;

        private Spread(Action<int> body, int count) { this.body = body; this.count = count; }

        public static void Run(Action<int> body, int count, int threads)
        {
            var spread = new Spread(body, count);
            for (int h = 1; h < Math.Min(threads, count); h++)
                ThreadPool.UnsafeQueueUserWorkItem(static s => s.Work(), spread, preferLocal: false);
            spread.Work();
            var spin = new SpinWait();
            while (Volatile.Read(ref spread.done) < count) spin.SpinOnce(sleep1Threshold: -1);
            if (spread.error is { } e) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
        }

        private void Work()
        {
            for (int i; (i = Interlocked.Increment(ref next)) < count;)
            {
                try { body(i); }
                catch (Exception e) { Interlocked.CompareExchange(ref error, e, null); }
                Interlocked.Increment(ref done);
            }
        }
    }

    private sealed class Job(float[] a, bool ta, float[] b, bool tb, float[] c, int m, int n, int k, float alpha, float beta,
        int tilesN, int ncMax, int nr, float[]? sharedA, int rowsPad, float[]? sharedB, int colsPad, bool aInPlace, bool bFused)
    {
        public void Tile(int tile)
        {
            int i0 = tile / tilesN * MC, j0 = tile % tilesN * ncMax;
            for (int p0 = 0; p0 < k; p0 += KC)
                Block(i0, Math.Min(MC, m - i0), j0, Math.Min(ncMax, n - j0), p0, c, 0, alpha, p0 == 0 ? beta : 1f);
        }

        /// <summary>
        /// K blocks [first, end) of all of C (<see cref="Multiply"/>'s split of K): the run that starts at block 0 adds
        /// them into C, any other writes block q's bare sum to slice q − perRun of <paramref name="sums"/>.
        /// </summary>
        public void Run(int first, int end, int perRun, float[] sums)
        {
            for (int q = first; q < end; q++)
                for (int i0 = 0; i0 < m; i0 += MC)
                    for (int j0 = 0; j0 < n; j0 += NC)
                    {
                        int mc = Math.Min(MC, m - i0), nc = Math.Min(NC, n - j0);
                        if (first == 0) Block(i0, mc, j0, nc, q * KC, c, 0, alpha, q == 0 ? beta : 1f);
                        else Block(i0, mc, j0, nc, q * KC, sums, (long)(q - perRun) * m * n, 1f, 0f);
                    }
        }

        private void Block(int i0, int mc, int j0, int nc, int p0, float[] target, long offset, float blockAlpha, float blockBeta)
        {
            bool wide = nr == 2 * Lanes512.Count;
            if (aInPlace && wide) Block<Lanes512, RowsOfA>(i0, mc, j0, nc, p0, target, offset, blockAlpha, blockBeta);
            else if (aInPlace) Block<Lanes256, RowsOfA>(i0, mc, j0, nc, p0, target, offset, blockAlpha, blockBeta);
            else if (wide) Block<Lanes512, PackedA>(i0, mc, j0, nc, p0, target, offset, blockAlpha, blockBeta);
            else Block<Lanes256, PackedA>(i0, mc, j0, nc, p0, target, offset, blockAlpha, blockBeta);
        }

        /// <summary>
        /// target[offset + (i0.., j0..)] = blockAlpha · (the K block at p0 of the mc × nc tile) + blockBeta · target,
        /// target an m × n matrix.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Block<V, S>(int i0, int mc, int j0, int nc, int p0, float[] target, long offset, float blockAlpha, float blockBeta)
            where V : struct, ILanes<V> where S : struct, IReadsA
        {
            int mPanels = (mc + MR - 1) / MR, nPanels = (nc + nr - 1) / nr;
            int kc = Math.Min(KC, k - p0);
            float[] pa = a, pb;
            int aOffset = 0, bOffset = 0;
            if (S.AInPlace) { }
            else if (sharedA is null) PackA(a, ta, m, k, i0, mc, p0, kc, pa = packA ??= new float[MC * KC], 0);
            else { pa = sharedA; aOffset = rowsPad * p0 + i0 * kc; }
            int wholePanels = nc / nr;
            if (bFused)
            {
                // Whole panels are copied by their first row panel's kernel (below); an edge panel is packed here.
                pb = packB ??= new float[NC * KC];
                if (wholePanels < nPanels) PackB(b, tb, n, k, j0 + wholePanels * nr, nc - wholePanels * nr, p0, kc, pb, wholePanels * nr * kc, nr);
            }
            else if (sharedB is null) PackB(b, tb, n, k, j0, nc, p0, kc, pb = packB ??= new float[NC * KC], 0, nr);
            else { pb = sharedB; bOffset = colsPad * p0 + j0 * kc; }
            fixed (float* pA = pa, pB = pb, pC = target, pSource = b)
            {
                for (int jp = 0; jp < nPanels; jp++)
                {
                    int j = j0 + jp * nr, cols = Math.Min(nr, n - j);
                    float* bPanel = pB + bOffset + jp * nr * kc;
                    int ip = 0;
                    if (bFused && jp < wholePanels)
                    {
                        float* aPanel = S.AInPlace ? pA + (long)i0 * k + p0 : pA + aOffset;
                        Kernel<V, S, RowsOfB>(aPanel, k, pSource + (long)p0 * n + j, n, bPanel, kc, pC + offset + (long)i0 * n + j, n,
                            Math.Min(MR, m - i0), cols, blockAlpha, blockBeta);
                        ip = 1;
                    }
                    for (; ip < mPanels; ip++)
                    {
                        int i = i0 + ip * MR, rows = Math.Min(MR, m - i);
                        float* aPanel = S.AInPlace ? pA + (long)i * k + p0 : pA + aOffset + ip * MR * kc;
                        Kernel<V, S, PackedB>(aPanel, k, bPanel, nr, null, kc, pC + offset + (long)i * n + j, n, rows, cols, blockAlpha, blockBeta);
                    }
                }
            }
        }
    }

    /// <summary>
    /// How the micro-kernel reads op(A): from packed MR-row panels, or a row-major A where it lies, each of MR rows
    /// its own stream of broadcasts. In place saves a copy of A per call, and pays where K is shallow (see
    /// <see cref="ShallowK"/>); B stays packed, its panels being what the kernel's vector loads need.
    /// </summary>
    private interface IReadsA
    {
        static abstract bool AInPlace { get; }
    }

    private struct PackedA : IReadsA { public static bool AInPlace => false; }
    private struct RowsOfA : IReadsA { public static bool AInPlace => true; }

    /// <summary>
    /// How the micro-kernel reads op(B): a packed panel, or a row-major B's rows (ldb apart, whole panels only) that it
    /// also stores as the packed panel for the next row panels of the tile. Fusing the copy into the first kernel
    /// saves the separate packing pass over the block, whose loads and stores have no FMAs to hide behind: the MLP's
    /// input gradient (100 × 1024 × 1024) ran about 5 % faster on one thread (p10; BENCHMARKS.md).
    /// </summary>
    private interface IReadsB
    {
        static abstract bool CopiesB { get; }
    }

    private struct PackedB : IReadsB { public static bool CopiesB => false; }
    private struct RowsOfB : IReadsB { public static bool CopiesB => true; }

    /// <summary>
    /// A block of op(A) as MR-row panels, k-major inside a panel, from dst[offset]; rows past m are zero. Whole panels
    /// of a row-major A are 8 × 8 register transposes; of a transposed A, one 8-float copy per k.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackA(float[] a, bool ta, int m, int k, int i0, int mc, int p0, int kc, float[] dst, int offset)
    {
        int panels = (mc + MR - 1) / MR;
        fixed (float* pa = a, pd = dst)
        {
            if (ta)
            {
                // A is stored k×m: the panels' rows lie side by side in every stored row, read once in order.
                int whole = mc / MR;
                for (int p = 0; p < kc; p++)
                {
                    float* s = pa + (long)(p0 + p) * m + i0, d = pd + offset + p * MR;
                    for (int ip = 0; ip < whole; ip++, s += MR, d += MR * kc) Vector256.Store(Vector256.Load(s), d);
                    if (whole == panels) continue;
                    int r = 0, rows = mc - whole * MR;
                    for (; r < rows; r++) d[r] = s[r];
                    for (; r < MR; r++) d[r] = 0f;
                }
                return;
            }
            for (int ip = 0; ip < panels; ip++)
            {
                int baseRow = i0 + ip * MR, o = offset + ip * MR * kc;
                int rows = Math.Min(MR, i0 + mc - baseRow);
                int q = 0;
                if (rows == MR && Avx.IsSupported)
                {
                    float* s = pa + (long)baseRow * k + p0;
                    for (; q + 8 <= kc; q += 8, s += 8)
                        Transpose8x8(Avx.LoadVector256(s), Avx.LoadVector256(s + k), Avx.LoadVector256(s + 2 * k),
                            Avx.LoadVector256(s + 3 * k), Avx.LoadVector256(s + 4 * k), Avx.LoadVector256(s + 5 * k),
                            Avx.LoadVector256(s + 6 * k), Avx.LoadVector256(s + 7 * k), pd + o + q * MR, MR);
                }
                for (int r = 0; r < MR; r++)
                {
                    float* d = pd + o + r;
                    if (r >= rows)
                    {
                        for (int p = q; p < kc; p++) d[p * MR] = 0f;
                        continue;
                    }
                    float* s = pa + (long)(baseRow + r) * k + p0;
                    for (int p = q; p < kc; p++) d[p * MR] = s[p];
                }
            }
        }
    }

    /// <summary>A block of op(B) as nr-column panels, k-major inside a panel, from dst[offset]; columns past n are zero.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackB(float[] b, bool tb, int n, int k, int j0, int nc, int p0, int kc, float[] dst, int offset, int nr)
    {
        int panels = (nc + nr - 1) / nr;
        if (tb)
        {
            for (int jp = 0; jp < panels; jp++)
                PackTransposed(b, k, j0 + jp * nr, Math.Min(nr, nc - jp * nr), p0, kc, dst, offset + jp * nr * kc, nr);
            return;
        }
        int whole = nc / nr;
        fixed (float* pb = b, pd = dst)
        {
            // Row by row of B, each read once from start to end (the panels are written side by side): a B that
            // streams from memory (a conv's weight gradient) is read at the memory's pace.
            for (int p = 0; p < kc; p++)
            {
                float* s = pb + (long)(p0 + p) * n + j0, d = pd + offset + p * nr;
                for (int jp = 0; jp < whole; jp++, s += nr, d += nr * kc)
                    for (int jj = 0; jj < nr; jj += 8) Vector256.Store(Vector256.Load(s + jj), d + jj);
                if (whole == panels) continue;
                int j = 0, cols = nc - whole * nr;
                for (; j < cols; j++) d[j] = s[j];
                for (; j < nr; j++) d[j] = 0f;
            }
        }
    }

    /// <summary>
    /// One nr-column panel of op(B) when B is stored n×k: column jj of the panel is stored row baseCol + jj. Blocks of
    /// 8 rows × 8 k are transposed in registers (AVX); the rest, and CPUs without AVX, go element by element.
    /// Gathering the panel column-wise instead touches nr lines 4 KiB apart at once, which share one L1 set.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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
    /// (8×16 with Vector256, 8×32 with Vector512; the JIT compiles one body per lane type and way of reading A,
    /// <typeparamref name="S"/>, and of reading B, <typeparamref name="T"/>). A packed panel is read at constant strides;
    /// A in place is row-major with rows lda apart, and a panel's rows past m read its last row again (the packed panel
    /// holds zeros there): their sums are never stored. B in place is row-major with rows ldb apart, each row's 2L
    /// floats stored on to copy as a packed panel. Edges go through a buffer.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    private static void Kernel<V, S, T>(float* a, int lda, float* b, int ldb, float* copy, int kc, float* c, int ldc, int rows, int cols, float alpha, float beta)
        where V : struct, ILanes<V> where S : struct, IReadsA where T : struct, IReadsB
    {
        int lanes = V.Count, nr = 2 * lanes, ak = S.AInPlace ? 1 : MR, bk = T.CopiesB ? ldb : nr;
        int last = rows - 1;
        int o1 = S.AInPlace ? Math.Min(1, last) * lda : 1, o2 = S.AInPlace ? Math.Min(2, last) * lda : 2,
            o3 = S.AInPlace ? Math.Min(3, last) * lda : 3, o4 = S.AInPlace ? Math.Min(4, last) * lda : 4,
            o5 = S.AInPlace ? Math.Min(5, last) * lda : 5, o6 = S.AInPlace ? Math.Min(6, last) * lda : 6,
            o7 = S.AInPlace ? Math.Min(7, last) * lda : 7;
        V c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default,
            c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default,
            c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = V.Load(b);
            var b1 = V.Load(b + lanes);
            if (T.CopiesB)
            {
                V.Store(b0, copy);
                V.Store(b1, copy + lanes);
                copy += nr;
            }
            var a0 = V.Broadcast(a[0]);
            c00 = V.Fma(a0, b0, c00); c01 = V.Fma(a0, b1, c01);
            var a1 = V.Broadcast(a[o1]);
            c10 = V.Fma(a1, b0, c10); c11 = V.Fma(a1, b1, c11);
            var a2 = V.Broadcast(a[o2]);
            c20 = V.Fma(a2, b0, c20); c21 = V.Fma(a2, b1, c21);
            var a3 = V.Broadcast(a[o3]);
            c30 = V.Fma(a3, b0, c30); c31 = V.Fma(a3, b1, c31);
            var a4 = V.Broadcast(a[o4]);
            c40 = V.Fma(a4, b0, c40); c41 = V.Fma(a4, b1, c41);
            var a5 = V.Broadcast(a[o5]);
            c50 = V.Fma(a5, b0, c50); c51 = V.Fma(a5, b1, c51);
            var a6 = V.Broadcast(a[o6]);
            c60 = V.Fma(a6, b0, c60); c61 = V.Fma(a6, b1, c61);
            var a7 = V.Broadcast(a[o7]);
            c70 = V.Fma(a7, b0, c70); c71 = V.Fma(a7, b1, c71);
            a += ak;
            b += bk;
        }
        if (rows == MR && cols == nr)
        {
            StoreTile(c, ldc, lanes, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71, alpha, beta);
            return;
        }
        // An edge tile goes into a buffer first, then its rows × cols corner into C.
        float* tile = stackalloc float[MR * 32];
        StoreTile(tile, nr, lanes, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71, 1f, 0f);
        StoreEdge(tile, nr, c, ldc, rows, cols, alpha, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTile<V>(float* c, int ldc, int lanes, V c00, V c01, V c10, V c11, V c20, V c21, V c30, V c31,
        V c40, V c41, V c50, V c51, V c60, V c61, V c70, V c71, float alpha, float beta) where V : struct, ILanes<V>
    {
        StoreRow(c, lanes, c00, c01, alpha, beta); StoreRow(c + ldc, lanes, c10, c11, alpha, beta);
        StoreRow(c + 2 * ldc, lanes, c20, c21, alpha, beta); StoreRow(c + 3 * ldc, lanes, c30, c31, alpha, beta);
        StoreRow(c + 4 * ldc, lanes, c40, c41, alpha, beta); StoreRow(c + 5 * ldc, lanes, c50, c51, alpha, beta);
        StoreRow(c + 6 * ldc, lanes, c60, c61, alpha, beta); StoreRow(c + 7 * ldc, lanes, c70, c71, alpha, beta);
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
