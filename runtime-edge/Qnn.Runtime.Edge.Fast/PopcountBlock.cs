using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Arm = System.Runtime.Intrinsics.Arm;

namespace Qnn.Runtime.Edge.Fast;

/// <summary>Which popcount kernel the fast path runs; every one gives the same integers.</summary>
public enum FastKernel
{
    /// <summary>The widest the machine supports.</summary>
    Auto,
    /// <summary>64-bit words and BitOperations.PopCount (POPCNT, or CNT on ARM64): the fallback everywhere.</summary>
    Scalar,
    /// <summary>AVX2: 4 filters per 256-bit vector, byte popcount by nibble lookup (vpshufb), summed with vpsadbw.</summary>
    Avx2,
    /// <summary>AVX-512BW: the same with 8 filters per 512-bit vector.</summary>
    Avx512,
    /// <summary>ARM64 AdvSimd (a Raspberry Pi 4 or 5): CNT on bytes, 2 filters per 128-bit vector, pairwise widening adds (UADDLP, UADALP).</summary>
    AdvSimd,
}

/// <summary>The bitwise product of SPEC 1.4: XOR for signed inputs (disagreements), AND for unsigned ones.</summary>
public interface IBitOp
{
    static abstract ulong Apply(ulong a, ulong w);
    static abstract Vector128<ulong> Apply(Vector128<ulong> a, Vector128<ulong> w);
    static abstract Vector256<ulong> Apply(Vector256<ulong> a, Vector256<ulong> w);
    static abstract Vector512<ulong> Apply(Vector512<ulong> a, Vector512<ulong> w);
}

public struct XorOp : IBitOp
{
    public static ulong Apply(ulong a, ulong w) => a ^ w;
    public static Vector128<ulong> Apply(Vector128<ulong> a, Vector128<ulong> w) => a ^ w;
    public static Vector256<ulong> Apply(Vector256<ulong> a, Vector256<ulong> w) => a ^ w;
    public static Vector512<ulong> Apply(Vector512<ulong> a, Vector512<ulong> w) => a ^ w;
}

public struct AndOp : IBitOp
{
    public static ulong Apply(ulong a, ulong w) => a & w;
    public static Vector128<ulong> Apply(Vector128<ulong> a, Vector128<ulong> w) => a & w;
    public static Vector256<ulong> Apply(Vector256<ulong> a, Vector256<ulong> w) => a & w;
    public static Vector512<ulong> Apply(Vector512<ulong> a, Vector512<ulong> w) => a & w;
}

/// <summary>
/// The inner product of binary GEMM: up to <see cref="RowBlock"/> patch rows (output pixels of a conv, or samples of
/// a batch through a dense layer) against blocks of 8 interleaved filter planes (<see cref="FastLayer"/>). The
/// nibble-table kernels load each weight vector once for the 4 rows, Harley–Seal runs the rows in turn over a block
/// held in L1; each row word is loaded once per 8 filters, and the weights are read as one sequential stream. The scalar kernel beside the SIMD ones is the reference they must equal
/// (PopcountBlockTests, FastInterpreterTests on every kernel this machine runs).
/// </summary>
public static class PopcountBlock
{
    public const int BlockFilters = 8;

    /// <summary>Patch rows that share each weight load.</summary>
    public const int RowBlock = 4;

    /// <summary>The kernel <see cref="FastKernel.Auto"/> stands for on this machine.</summary>
    public static FastKernel Resolve(FastKernel kernel)
    {
        if (kernel == FastKernel.Auto)
        {
            if (Avx512BW.IsSupported && Vector512.IsHardwareAccelerated) return FastKernel.Avx512;
            if (Avx2.IsSupported) return FastKernel.Avx2;
            if (Arm.AdvSimd.IsSupported) return FastKernel.AdvSimd;
            return FastKernel.Scalar;
        }
        if (!Supported(kernel)) throw new PlatformNotSupportedException($"this machine cannot run the {kernel} kernel");
        return kernel;
    }

    /// <summary>Whether this machine (and this process: DOTNET_EnableAVX512F=0 and the like turn ISAs off) runs <paramref name="kernel"/>.</summary>
    public static bool Supported(FastKernel kernel) => kernel switch
    {
        FastKernel.Auto or FastKernel.Scalar => true,
        FastKernel.Avx2 => Avx2.IsSupported,
        FastKernel.Avx512 => Avx512BW.IsSupported && Vector512.IsHardwareAccelerated,
        FastKernel.AdvSimd => Arm.AdvSimd.IsSupported,
        _ => false,
    };

    /// <summary>counts[l] = Σ_w popcount(op(patch[w], block[w·8 + l])) for the 8 filters l of a block.</summary>
    public static void Block<TOp>(FastKernel kernel, ReadOnlySpan<ulong> patch, ReadOnlySpan<ulong> block, Span<int> counts) where TOp : IBitOp =>
        BlockPlanes<TOp>(kernel, patch, 1, block, 1, patch.Length, counts);

    /// <summary>
    /// All plane pairs of one block for one patch (SPEC 1.4): sums[l] = Σ_i Σ_j popcount(op(patch_j, W_i,l)) &lt;&lt; (i + j),
    /// with patch plane j at [j·words, (j+1)·words) and weight plane i at [i·words·8, (i+1)·words·8).
    /// </summary>
    public static void BlockPlanes<TOp>(FastKernel kernel, ReadOnlySpan<ulong> patch, int inputPlanes, ReadOnlySpan<ulong> block, int weightPlanes,
        int words, Span<int> sums) where TOp : IBitOp =>
        Rows<TOp>(kernel, patch, 1, inputPlanes * words, inputPlanes, block, 1, weightPlanes, words, sums, BlockFilters);

    /// <summary>
    /// sums[r·sumStride + b·8 + l] = Σ_i Σ_j popcount(op(patch_r,j, W_b,i,l)) &lt;&lt; (i + j) for rows r &lt; <paramref name="rows"/>
    /// (at most <see cref="RowBlock"/>), blocks b &lt; <paramref name="blocks"/> and their 8 filters l. Row r's plane j is
    /// at patches[r·patchStride + j·words …]; block b's weight plane i at weights[(b·weightPlanes + i)·words·8 …].
    /// The SIMD kernels keep the shifted sums in vector registers and extract the 8 lanes once per block and row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows<TOp>(FastKernel kernel, ReadOnlySpan<ulong> patches, int rows, int patchStride, int inputPlanes,
        ReadOnlySpan<ulong> weights, int blocks, int weightPlanes, int words, Span<int> sums, int sumStride) where TOp : IBitOp
    {
        int planeWords = words * BlockFilters;
        if (rows < 1 || rows > RowBlock || words < 1 || sumStride < blocks * BlockFilters
            || patches.Length < (long)(rows - 1) * patchStride + inputPlanes * words
            || weights.Length < (long)blocks * weightPlanes * planeWords || sums.Length < (long)(rows - 1) * sumStride + blocks * BlockFilters)
            throw new ArgumentException("patches, weights or sums too short, or rows not 1-4");
        switch (kernel)
        {
            case FastKernel.Avx512: RowsAvx512<TOp>(patches, rows, patchStride, inputPlanes, weights, blocks, weightPlanes, words, sums, sumStride); break;
            case FastKernel.Avx2: RowsAvx2<TOp>(patches, rows, patchStride, inputPlanes, weights, blocks, weightPlanes, words, sums, sumStride); break;
            case FastKernel.AdvSimd: RowsAdvSimd<TOp>(patches, rows, patchStride, inputPlanes, weights, blocks, weightPlanes, words, sums, sumStride); break;
            default:
                for (int r = 0; r < rows; r++)
                    for (int b = 0; b < blocks; b++)
                        PlanesScalar<TOp>(patches[(r * patchStride)..], inputPlanes, weights[(b * weightPlanes * planeWords)..], weightPlanes, words,
                            sums.Slice(r * sumStride + b * BlockFilters, BlockFilters));
                break;
        }
    }

    /// <summary>
    /// Whether <see cref="RowsToBits{TOp}"/> runs for this kernel and patch length: AVX-512, and planes of whole
    /// Harley–Seal groups (1024-wide dense layers and wider), where it saves writing every sum and reading it back.
    /// </summary>
    public static bool FusesThresholds(FastKernel kernel, int words) => kernel == FastKernel.Avx512 && words % 16 == 0;

    /// <summary>
    /// <see cref="Rows{TOp}"/> for a layer of binary outputs (SPEC 1.6, one threshold per filter), with the thresholds
    /// applied in the kernel's epilogue: bits[r·bitsStride + b] holds the output bits of block b's 8 filters for row r,
    /// bit l set where (sum ≤ bounds[b·8 + l]) XOR (bit l of flips[b]) — the rule of <see cref="FastLayer.DisagreementBound"/>.
    /// The byte is the output's byte b of the row's pixel (SPEC 1.2 words are little-endian here). Only where
    /// <see cref="FusesThresholds"/>; its equality with <see cref="Rows{TOp}"/> and the thresholds is tested.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowsToBits<TOp>(FastKernel kernel, ReadOnlySpan<ulong> patches, int rows, int patchStride, int inputPlanes,
        ReadOnlySpan<ulong> weights, int blocks, int weightPlanes, int words, ReadOnlySpan<long> bounds, ReadOnlySpan<byte> flips, Span<byte> bits, int bitsStride)
        where TOp : IBitOp
    {
        if (!FusesThresholds(kernel, words)) throw new ArgumentException($"the {kernel} kernel does not fuse thresholds for {words} words");
        if (rows < 1 || rows > RowBlock || bitsStride < blocks || patches.Length < (long)(rows - 1) * patchStride + inputPlanes * words
            || weights.Length < (long)blocks * weightPlanes * words * BlockFilters || bounds.Length < blocks * BlockFilters || flips.Length < blocks
            || bits.Length < (long)(rows - 1) * bitsStride + blocks)
            throw new ArgumentException("patches, weights, bounds, flips or bits too short, or rows not 1-4");
        var store = new BitsStore(ref MemoryMarshal.GetReference(bounds), ref MemoryMarshal.GetReference(flips), ref MemoryMarshal.GetReference(bits), bitsStride);
        GroupsAvx512<TOp, BitsStore>(ref MemoryMarshal.GetReference(patches), rows, patchStride, inputPlanes, ref MemoryMarshal.GetReference(weights), blocks,
            weightPlanes, words, store);
    }

    /// <summary>Where <see cref="GroupsAvx512"/> puts a row's 8 sums of a block: narrowed into int sums, or turned into output bits.</summary>
    private interface IRowStore
    {
        void Store(int row, int block, Vector512<ulong> sums);
    }

    /// <summary>Sums fit in 31 bits (SPEC 4): narrowing the lanes to 32 bits and storing 8 at once is exact.</summary>
    private readonly ref struct SumsStore(ref int sums, int stride) : IRowStore
    {
        private readonly ref int _sums = ref sums;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(int row, int block, Vector512<ulong> sums) =>
            Vector512.Narrow(sums, sums).GetLower().AsInt32().StoreUnsafe(ref _sums, (nuint)(row * stride + block * BlockFilters));
    }

    /// <summary>One compare of the 8 sums against their bounds (vpcmpq into a mask register), the flips XORed, one byte stored.</summary>
    private readonly ref struct BitsStore(ref long bounds, ref byte flips, ref byte bits, int stride) : IRowStore
    {
        private readonly ref long _bounds = ref bounds;
        private readonly ref byte _flips = ref flips, _bits = ref bits;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store(int row, int block, Vector512<ulong> sums)
        {
            var bound = Vector512.LoadUnsafe(ref _bounds, (nuint)(block * BlockFilters));
            uint pass = (uint)Vector512.LessThanOrEqual(sums.AsInt64(), bound).ExtractMostSignificantBits() ^ Unsafe.Add(ref _flips, block);
            Unsafe.Add(ref _bits, row * stride + block) = (byte)pass;
        }
    }

    // The tables below are the byte counts of a nibble, once per 128-bit lane (vpshufb looks up within each lane).
    // They are literal constants in each method: a static readonly vector costs a static-base load per call in
    // methods compiled with AggressiveOptimization, and a computed one may be rebuilt inside the loop.

    // A byte gains at most 8 per word, so byte sums are folded into 64-bit lanes every 31 words (31·8 < 256).
    private const int FoldWords = 31;

    /// <summary>The reference: one patch against one block, 64-bit words and BitOperations.PopCount.</summary>
    private static void PlanesScalar<TOp>(ReadOnlySpan<ulong> patch, int inputPlanes, ReadOnlySpan<ulong> block, int weightPlanes, int words, Span<int> sums)
        where TOp : IBitOp
    {
        int s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        ref ulong w = ref MemoryMarshal.GetReference(block);
        for (int i = 0; i < weightPlanes; i++, w = ref Unsafe.Add(ref w, words * BlockFilters))
        {
            ref ulong a = ref MemoryMarshal.GetReference(patch);
            for (int j = 0; j < inputPlanes; j++, a = ref Unsafe.Add(ref a, words))
            {
                int c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
                for (int k = 0; k < words; k++)
                {
                    ulong x = Unsafe.Add(ref a, k);
                    ref ulong r = ref Unsafe.Add(ref w, k * BlockFilters);
                    c0 += BitOperations.PopCount(TOp.Apply(x, r));
                    c1 += BitOperations.PopCount(TOp.Apply(x, Unsafe.Add(ref r, 1)));
                    c2 += BitOperations.PopCount(TOp.Apply(x, Unsafe.Add(ref r, 2)));
                    c3 += BitOperations.PopCount(TOp.Apply(x, Unsafe.Add(ref r, 3)));
                    c4 += BitOperations.PopCount(TOp.Apply(x, Unsafe.Add(ref r, 4)));
                    c5 += BitOperations.PopCount(TOp.Apply(x, Unsafe.Add(ref r, 5)));
                    c6 += BitOperations.PopCount(TOp.Apply(x, Unsafe.Add(ref r, 6)));
                    c7 += BitOperations.PopCount(TOp.Apply(x, Unsafe.Add(ref r, 7)));
                }
                int shift = i + j;
                s0 += c0 << shift; s1 += c1 << shift; s2 += c2 << shift; s3 += c3 << shift;
                s4 += c4 << shift; s5 += c5 << shift; s6 += c6 << shift; s7 += c7 << shift;
            }
        }
        sums[0] = s0; sums[1] = s1; sums[2] = s2; sums[3] = s3;
        sums[4] = s4; sums[5] = s5; sums[6] = s6; sums[7] = s7;
    }

    /// <summary>Offsets of rows 1–3 from row 0; missing rows repeat the last one (their sums are computed and not stored).</summary>
    private static (int, int, int) RowOffsets(int rows, int patchStride) =>
        (Math.Min(1, rows - 1) * patchStride, Math.Min(2, rows - 1) * patchStride, Math.Min(3, rows - 1) * patchStride);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsAvx512<TOp>(ReadOnlySpan<ulong> patches, int rows, int patchStride, int inputPlanes,
        ReadOnlySpan<ulong> weights, int blocks, int weightPlanes, int words, Span<int> sums, int sumStride) where TOp : IBitOp
    {
        ref ulong p = ref MemoryMarshal.GetReference(patches);
        ref ulong w = ref MemoryMarshal.GetReference(weights);
        ref int s = ref MemoryMarshal.GetReference(sums);
        int tail = words & 15;
        // Two small methods rather than one: the JIT allocated registers in the two loops together worse than in each
        // alone (~1.33 against ~1.41 µs per row of the 1024 × 1024 layer in a harness; OneGroupAvx512 then ~1.15).
        if (words > tail) GroupsAvx512<TOp, SumsStore>(ref p, rows, patchStride, inputPlanes, ref w, blocks, weightPlanes, words, new SumsStore(ref s, sumStride));
        if (tail > 0) TailAvx512<TOp>(ref p, rows, patchStride, inputPlanes, ref w, blocks, weightPlanes, words, ref s, sumStride);
    }

    /// <summary>
    /// The whole groups of 16 words of every row through Harley–Seal, one row after the other: the block's planes (1 KB
    /// for a 1024-wide layer) stay in L1 for the next row, and one row's carry-save tree fits the registers.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void GroupsAvx512<TOp, TStore>(ref ulong p, int rows, int patchStride, int inputPlanes, ref ulong w, int blocks, int weightPlanes, int words,
        TStore store) where TOp : IBitOp where TStore : IRowStore, allows ref struct
    {
        if (words == 16 && weightPlanes == 1 && inputPlanes == 1)
        {
            OneGroupAvx512<TOp, TStore>(ref p, rows, patchStride, ref w, blocks, store);
            return;
        }
        int planeWords = words * BlockFilters, head = words & ~15;
        for (int b = 0; b < blocks; b++)
        {
            ref ulong block = ref Unsafe.Add(ref w, b * weightPlanes * planeWords);
            for (int r = 0; r < rows; r++)
            {
                ref ulong row = ref Unsafe.Add(ref p, r * patchStride);
                Vector512<ulong> acc = default;
                for (int i = 0; i < weightPlanes; i++)
                    for (int j = 0; j < inputPlanes; j++)
                        acc += HarleySealAvx512<TOp>(ref Unsafe.Add(ref row, j * words), ref Unsafe.Add(ref block, i * planeWords), head) << (i + j);
                store.Store(r, b, acc);
            }
        }
    }

    /// <summary>
    /// <see cref="GroupsAvx512"/> for rows of exactly one group and one plane each: a 1024-wide dense layer of binary
    /// weights and activations (the paper's MLP and the 1024 → 1024 layers of its CIFAR net), as straight-line code
    /// without plane loops or shifts, which the JIT keeps in registers (~1.15 against ~1.35–1.7 µs per row of a
    /// 1024 × 1024 layer through the general loop in a harness).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void OneGroupAvx512<TOp, TStore>(ref ulong p, int rows, int patchStride, ref ulong w, int blocks, TStore store)
        where TOp : IBitOp where TStore : IRowStore, allows ref struct
    {
        for (int b = 0; b < blocks; b++)
        {
            ref ulong block = ref Unsafe.Add(ref w, b * 16 * BlockFilters);
            for (int r = 0; r < rows; r++)
            {
                Vector512<ulong> ones = default, twos = default, fours = default, eights = default;
                var sixteens = Group16<TOp>(ref Unsafe.Add(ref p, r * patchStride), ref block, ref ones, ref twos, ref fours, ref eights);
                store.Store(r, b, Avx512BW.SumAbsoluteDifferences(WeightedByteCounts(sixteens, eights, fours, twos, ones), Vector512<byte>.Zero).AsUInt64());
            }
        }
    }

    /// <summary>
    /// The rest of each plane, fewer than 16 words (all of a small conv patch), by nibble table with the 4 rows sharing
    /// each weight load; added to the sums of <see cref="GroupsAvx512"/> where there were whole groups.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void TailAvx512<TOp>(ref ulong p, int rows, int patchStride, int inputPlanes, ref ulong w, int blocks, int weightPlanes, int words,
        ref int s, int sumStride) where TOp : IBitOp
    {
        var (o1, o2, o3) = RowOffsets(rows, patchStride);
        int planeWords = words * BlockFilters, tail = words & 15, head = words - tail;
        for (int b = 0; b < blocks; b++)
        {
            ref ulong block = ref Unsafe.Add(ref w, b * weightPlanes * planeWords);
            Vector512<ulong> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
            for (int i = 0; i < weightPlanes; i++)
                for (int j = 0; j < inputPlanes; j++)
                {
                    int shift = i + j;
                    Lanes4Avx512<TOp>(ref Unsafe.Add(ref p, j * words + head), o1, o2, o3, ref Unsafe.Add(ref block, i * planeWords + head * BlockFilters), tail,
                        out var t0, out var t1, out var t2, out var t3);
                    acc0 += t0 << shift; acc1 += t1 << shift; acc2 += t2 << shift; acc3 += t3 << shift;
                }
            ref int at = ref Unsafe.Add(ref s, b * BlockFilters);
            StoreTail(ref at, 0, acc0, head > 0);
            if (rows > 1) StoreTail(ref at, sumStride, acc1, head > 0);
            if (rows > 2) StoreTail(ref at, 2 * sumStride, acc2, head > 0);
            if (rows > 3) StoreTail(ref at, 3 * sumStride, acc3, head > 0);
        }
    }

    /// <summary>Stores the 8 lanes of a tail's sums at sums[offset …], added to the head's sums already there when <paramref name="add"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreTail(ref int at, int offset, Vector512<ulong> lanes, bool add)
    {
        var sums = Vector512.Narrow(lanes, lanes).GetLower().AsInt32();
        if (add) sums += Vector256.LoadUnsafe(ref at, (nuint)offset);
        sums.StoreUnsafe(ref at, (nuint)offset);
    }

    /// <summary>
    /// The popcounts of 4 rows (at a, a + o1, a + o2, a + o3) against one block plane of n words, as the 64-bit lanes
    /// of one vector per row: per word one weight load, and per row a broadcast, XOR (or AND), two nibble lookups.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    internal static void Lanes4Avx512<TOp>(ref ulong a, int o1, int o2, int o3, ref ulong w, int n,
        out Vector512<ulong> t0, out Vector512<ulong> t1, out Vector512<ulong> t2, out Vector512<ulong> t3) where TOp : IBitOp
    {
        var table = Vector512.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
        var low = Vector512.Create((byte)0x0F);
        t0 = t1 = t2 = t3 = Vector512<ulong>.Zero;
        int k = 0;
        while (k < n)
        {
            int end = Math.Min(n, k + FoldWords);
            Vector512<byte> b0 = default, b1 = default, b2 = default, b3 = default;
            for (; k < end; k++)
            {
                var wv = Vector512.LoadUnsafe(ref w, (nuint)(k * BlockFilters));
                var x0 = TOp.Apply(Vector512.Create(Unsafe.Add(ref a, k)), wv);
                var x1 = TOp.Apply(Vector512.Create(Unsafe.Add(ref a, o1 + k)), wv);
                var x2 = TOp.Apply(Vector512.Create(Unsafe.Add(ref a, o2 + k)), wv);
                var x3 = TOp.Apply(Vector512.Create(Unsafe.Add(ref a, o3 + k)), wv);
                b0 += Avx512BW.Shuffle(table, x0.AsByte() & low) + Avx512BW.Shuffle(table, Vector512.ShiftRightLogical(x0, 4).AsByte() & low);
                b1 += Avx512BW.Shuffle(table, x1.AsByte() & low) + Avx512BW.Shuffle(table, Vector512.ShiftRightLogical(x1, 4).AsByte() & low);
                b2 += Avx512BW.Shuffle(table, x2.AsByte() & low) + Avx512BW.Shuffle(table, Vector512.ShiftRightLogical(x2, 4).AsByte() & low);
                b3 += Avx512BW.Shuffle(table, x3.AsByte() & low) + Avx512BW.Shuffle(table, Vector512.ShiftRightLogical(x3, 4).AsByte() & low);
            }
            t0 += Avx512BW.SumAbsoluteDifferences(b0, Vector512<byte>.Zero).AsUInt64();
            t1 += Avx512BW.SumAbsoluteDifferences(b1, Vector512<byte>.Zero).AsUInt64();
            t2 += Avx512BW.SumAbsoluteDifferences(b2, Vector512<byte>.Zero).AsUInt64();
            t3 += Avx512BW.SumAbsoluteDifferences(b3, Vector512<byte>.Zero).AsUInt64();
        }
    }

    /// <summary>
    /// Harley–Seal: one row (at a) against one block plane of n words, n a multiple of 16. Each 16 XORed (or ANDed)
    /// vectors go through a tree of carry-save adders (two vpternlogq each: the sum bit a ⊕ b ⊕ c, 0x96, and the carry,
    /// the majority, 0xE8), so one vector in 16 is popcounted (nibble table + vpsadbw) instead of every one. What is left
    /// at the end — the last sixteens, eights, fours, twos and ones — is counted in one pass: each byte's counts looked
    /// up in nibble tables already scaled by 16, 8, 4, 2 and 1 and added as bytes (at most 8·(16 + 8 + 4 + 2 + 1) = 248),
    /// then one vpsadbw. A 1024-wide dense row is a single group, so this last pass is a third of its work (scaled
    /// tables save the shifts and a vpsadbw). The 8 popcounts come back as 64-bit lanes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    internal static Vector512<ulong> HarleySealAvx512<TOp>(ref ulong a, ref ulong w, int n) where TOp : IBitOp
    {
        Vector512<ulong> ones = default, twos = default, fours = default, eights = default, sixteens = default;
        // The last group outside the loop: a 1024-wide row (one group) runs straight-line code, which the JIT keeps in
        // registers better than a loop that returns from its middle.
        int last = n - 16;
        for (int k = 0; k < last; k += 16)
        {
            var carry = Group16<TOp>(ref Unsafe.Add(ref a, k), ref Unsafe.Add(ref w, k * BlockFilters), ref ones, ref twos, ref fours, ref eights);
            sixteens += Avx512BW.SumAbsoluteDifferences(ByteCounts(carry), Vector512<byte>.Zero).AsUInt64();
        }
        var sixteen = Group16<TOp>(ref Unsafe.Add(ref a, last), ref Unsafe.Add(ref w, last * BlockFilters), ref ones, ref twos, ref fours, ref eights);
        return (sixteens << 4) + Avx512BW.SumAbsoluteDifferences(WeightedByteCounts(sixteen, eights, fours, twos, ones), Vector512<byte>.Zero).AsUInt64();
    }

    /// <summary>16 words of a row (at x) against a block plane (at y) into the carry-save counters; returns the sixteens' carry (also HarleySealRows' groups).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<ulong> Group16<TOp>(ref ulong x, ref ulong y, ref Vector512<ulong> ones, ref Vector512<ulong> twos, ref Vector512<ulong> fours,
        ref Vector512<ulong> eights) where TOp : IBitOp
    {
        Csa(out var twosA, ref ones, X<TOp>(ref x, ref y, 0), X<TOp>(ref x, ref y, 1));
        Csa(out var twosB, ref ones, X<TOp>(ref x, ref y, 2), X<TOp>(ref x, ref y, 3));
        Csa(out var foursA, ref twos, twosA, twosB);
        Csa(out twosA, ref ones, X<TOp>(ref x, ref y, 4), X<TOp>(ref x, ref y, 5));
        Csa(out twosB, ref ones, X<TOp>(ref x, ref y, 6), X<TOp>(ref x, ref y, 7));
        Csa(out var foursB, ref twos, twosA, twosB);
        Csa(out var eightsA, ref fours, foursA, foursB);
        Csa(out twosA, ref ones, X<TOp>(ref x, ref y, 8), X<TOp>(ref x, ref y, 9));
        Csa(out twosB, ref ones, X<TOp>(ref x, ref y, 10), X<TOp>(ref x, ref y, 11));
        Csa(out foursA, ref twos, twosA, twosB);
        Csa(out twosA, ref ones, X<TOp>(ref x, ref y, 12), X<TOp>(ref x, ref y, 13));
        Csa(out twosB, ref ones, X<TOp>(ref x, ref y, 14), X<TOp>(ref x, ref y, 15));
        Csa(out foursB, ref twos, twosA, twosB);
        Csa(out var eightsB, ref fours, foursA, foursB);
        Csa(out var carry, ref eights, eightsA, eightsB);
        return carry;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<ulong> X<TOp>(ref ulong a, ref ulong w, int k) where TOp : IBitOp =>
        TOp.Apply(Vector512.Create(Unsafe.Add(ref a, k)), Vector512.LoadUnsafe(ref w, (nuint)(k * BlockFilters)));

    /// <summary>Carry-save add of b and c into sum: sum ← sum ⊕ b ⊕ c, carry ← majority(sum, b, c).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Csa(out Vector512<ulong> carry, ref Vector512<ulong> sum, Vector512<ulong> b, Vector512<ulong> c)
    {
        carry = Avx512F.TernaryLogic(sum, b, c, 0xE8);
        sum = Avx512F.TernaryLogic(sum, b, c, 0x96);
    }

    /// <summary>The popcount of each byte: two nibble lookups (vpshufb).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> ByteCounts(Vector512<ulong> x) =>
        Lookup(Vector512.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4), x, Vector512.Create((byte)0x0F));

    /// <summary>16·popcount + 8·popcount + 4·popcount + 2·popcount + popcount of each byte of the five vectors, by nibble tables scaled in advance (no shifts).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> WeightedByteCounts(Vector512<ulong> sixteens, Vector512<ulong> eights, Vector512<ulong> fours, Vector512<ulong> twos, Vector512<ulong> ones)
    {
        var x1 = Vector512.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
        var x2 = Vector512.Create((byte)0, 2, 2, 4, 2, 4, 4, 6, 2, 4, 4, 6, 4, 6, 6, 8, 0, 2, 2, 4, 2, 4, 4, 6, 2, 4, 4, 6, 4, 6, 6, 8, 0, 2, 2, 4, 2, 4, 4, 6, 2, 4, 4, 6, 4, 6, 6, 8, 0, 2, 2, 4, 2, 4, 4, 6, 2, 4, 4, 6, 4, 6, 6, 8);
        var x4 = Vector512.Create((byte)0, 4, 4, 8, 4, 8, 8, 12, 4, 8, 8, 12, 8, 12, 12, 16, 0, 4, 4, 8, 4, 8, 8, 12, 4, 8, 8, 12, 8, 12, 12, 16, 0, 4, 4, 8, 4, 8, 8, 12, 4, 8, 8, 12, 8, 12, 12, 16, 0, 4, 4, 8, 4, 8, 8, 12, 4, 8, 8, 12, 8, 12, 12, 16);
        var x8 = Vector512.Create((byte)0, 8, 8, 16, 8, 16, 16, 24, 8, 16, 16, 24, 16, 24, 24, 32, 0, 8, 8, 16, 8, 16, 16, 24, 8, 16, 16, 24, 16, 24, 24, 32, 0, 8, 8, 16, 8, 16, 16, 24, 8, 16, 16, 24, 16, 24, 24, 32, 0, 8, 8, 16, 8, 16, 16, 24, 8, 16, 16, 24, 16, 24, 24, 32);
        var x16 = Vector512.Create((byte)0, 16, 16, 32, 16, 32, 32, 48, 16, 32, 32, 48, 32, 48, 48, 64, 0, 16, 16, 32, 16, 32, 32, 48, 16, 32, 32, 48, 32, 48, 48, 64, 0, 16, 16, 32, 16, 32, 32, 48, 16, 32, 32, 48, 32, 48, 48, 64, 0, 16, 16, 32, 16, 32, 32, 48, 16, 32, 32, 48, 32, 48, 48, 64);
        var low = Vector512.Create((byte)0x0F);
        return Lookup(x16, sixteens, low) + Lookup(x8, eights, low) + Lookup(x4, fours, low) + Lookup(x2, twos, low) + Lookup(x1, ones, low);
    }

    /// <summary>table[low nibble] + table[high nibble] of each byte of x (two vpshufb).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Lookup(Vector512<byte> table, Vector512<ulong> x, Vector512<byte> low) =>
        Avx512BW.Shuffle(table, x.AsByte() & low) + Avx512BW.Shuffle(table, Vector512.ShiftRightLogical(x, 4).AsByte() & low);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsAvx2<TOp>(ReadOnlySpan<ulong> patches, int rows, int patchStride, int inputPlanes,
        ReadOnlySpan<ulong> weights, int blocks, int weightPlanes, int words, Span<int> sums, int sumStride) where TOp : IBitOp
    {
        var (o1, o2, o3) = RowOffsets(rows, patchStride);
        ref ulong p = ref MemoryMarshal.GetReference(patches);
        ref ulong w = ref MemoryMarshal.GetReference(weights);
        ref int s = ref MemoryMarshal.GetReference(sums);
        int planeWords = words * BlockFilters;
        for (int b = 0; b < blocks; b++)
        {
            // Row r's filters 0–3 in accLo[r], 4–7 in accHi[r]: 8 accumulators, as many as the 16 ymm registers allow.
            Vector256<ulong> lo0 = default, lo1 = default, lo2 = default, lo3 = default, hi0 = default, hi1 = default, hi2 = default, hi3 = default;
            for (int i = 0; i < weightPlanes; i++)
            {
                ref ulong plane = ref Unsafe.Add(ref w, (b * weightPlanes + i) * planeWords);
                for (int j = 0; j < inputPlanes; j++)
                {
                    ref ulong a = ref Unsafe.Add(ref p, j * words);
                    int shift = i + j;
                    var (l0, h0, l1, h1) = Lanes2Avx2<TOp>(ref a, o1, ref plane, words);
                    lo0 += l0 << shift; hi0 += h0 << shift; lo1 += l1 << shift; hi1 += h1 << shift;
                    if (rows <= 2) continue;
                    var (l2, h2, l3, h3) = Lanes2Avx2<TOp>(ref Unsafe.Add(ref a, o2), o3 - o2, ref plane, words);
                    lo2 += l2 << shift; hi2 += h2 << shift; lo3 += l3 << shift; hi3 += h3 << shift;
                }
            }
            ref int at = ref Unsafe.Add(ref s, b * BlockFilters);
            Vector256.Narrow(lo0, hi0).AsInt32().StoreUnsafe(ref at);
            if (rows > 1) Vector256.Narrow(lo1, hi1).AsInt32().StoreUnsafe(ref at, (nuint)sumStride);
            if (rows > 2) Vector256.Narrow(lo2, hi2).AsInt32().StoreUnsafe(ref at, (nuint)(2 * sumStride));
            if (rows > 3) Vector256.Narrow(lo3, hi3).AsInt32().StoreUnsafe(ref at, (nuint)(3 * sumStride));
        }
    }

    /// <summary>Two rows (at a and a + o1) against one block plane: each row's filters 0–3 and 4–7 as two vectors of lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    internal static (Vector256<ulong>, Vector256<ulong>, Vector256<ulong>, Vector256<ulong>) Lanes2Avx2<TOp>(ref ulong a, int o1, ref ulong w, int n)
        where TOp : IBitOp
    {
        var table = Vector256.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
        var low = Vector256.Create((byte)0x0F);
        Vector256<ulong> t0 = default, t1 = default, t2 = default, t3 = default;
        int k = 0;
        while (k < n)
        {
            int end = Math.Min(n, k + FoldWords);
            Vector256<byte> b0 = default, b1 = default, b2 = default, b3 = default;
            for (; k < end; k++)
            {
                var wa = Vector256.LoadUnsafe(ref w, (nuint)(k * BlockFilters));
                var wb = Vector256.LoadUnsafe(ref w, (nuint)(k * BlockFilters + 4));
                var r0 = Vector256.Create(Unsafe.Add(ref a, k));
                var r1 = Vector256.Create(Unsafe.Add(ref a, o1 + k));
                var x0 = TOp.Apply(r0, wa); var x1 = TOp.Apply(r0, wb);
                var x2 = TOp.Apply(r1, wa); var x3 = TOp.Apply(r1, wb);
                b0 += Avx2.Shuffle(table, x0.AsByte() & low) + Avx2.Shuffle(table, Vector256.ShiftRightLogical(x0, 4).AsByte() & low);
                b1 += Avx2.Shuffle(table, x1.AsByte() & low) + Avx2.Shuffle(table, Vector256.ShiftRightLogical(x1, 4).AsByte() & low);
                b2 += Avx2.Shuffle(table, x2.AsByte() & low) + Avx2.Shuffle(table, Vector256.ShiftRightLogical(x2, 4).AsByte() & low);
                b3 += Avx2.Shuffle(table, x3.AsByte() & low) + Avx2.Shuffle(table, Vector256.ShiftRightLogical(x3, 4).AsByte() & low);
            }
            t0 += Avx2.SumAbsoluteDifferences(b0, Vector256<byte>.Zero).AsUInt64();
            t1 += Avx2.SumAbsoluteDifferences(b1, Vector256<byte>.Zero).AsUInt64();
            t2 += Avx2.SumAbsoluteDifferences(b2, Vector256<byte>.Zero).AsUInt64();
            t3 += Avx2.SumAbsoluteDifferences(b3, Vector256<byte>.Zero).AsUInt64();
        }
        return (t0, t1, t2, t3);
    }

    /// <summary>
    /// ARM64 (compiled everywhere, run only where AdvSimd.IsSupported; not run on this x64 CI): per row and block,
    /// four 128-bit vectors of 2 filters; CNT counts bits per byte, byte sums fold every 31 words through pairwise
    /// widening adds (UADDLP to 16 and 32 bits, UADALP into the 64-bit lanes). Two rows share each weight load
    /// (16 byte accumulators of the 32 NEON registers).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowsAdvSimd<TOp>(ReadOnlySpan<ulong> patches, int rows, int patchStride, int inputPlanes,
        ReadOnlySpan<ulong> weights, int blocks, int weightPlanes, int words, Span<int> sums, int sumStride) where TOp : IBitOp
    {
        ref ulong p = ref MemoryMarshal.GetReference(patches);
        ref ulong w = ref MemoryMarshal.GetReference(weights);
        int planeWords = words * BlockFilters;
        for (int r = 0; r < rows; r += 2)
        {
            int o1 = r + 1 < rows ? patchStride : 0;
            for (int b = 0; b < blocks; b++)
            {
                Vector128<ulong> a0 = default, a1 = default, a2 = default, a3 = default, c0 = default, c1 = default, c2 = default, c3 = default;
                for (int i = 0; i < weightPlanes; i++)
                {
                    ref ulong plane = ref Unsafe.Add(ref w, (b * weightPlanes + i) * planeWords);
                    for (int j = 0; j < inputPlanes; j++)
                    {
                        Lanes2AdvSimd<TOp>(ref Unsafe.Add(ref p, r * patchStride + j * words), o1, ref plane, words,
                            out var t0, out var t1, out var t2, out var t3, out var u0, out var u1, out var u2, out var u3);
                        int shift = i + j;
                        a0 += t0 << shift; a1 += t1 << shift; a2 += t2 << shift; a3 += t3 << shift;
                        c0 += u0 << shift; c1 += u1 << shift; c2 += u2 << shift; c3 += u3 << shift;
                    }
                }
                var row = sums.Slice(r * sumStride + b * BlockFilters, BlockFilters);
                Vector128.Narrow(a0, a1).AsInt32().CopyTo(row);
                Vector128.Narrow(a2, a3).AsInt32().CopyTo(row[4..]);
                if (r + 1 < rows)
                {
                    row = sums.Slice((r + 1) * sumStride + b * BlockFilters, BlockFilters);
                    Vector128.Narrow(c0, c1).AsInt32().CopyTo(row);
                    Vector128.Narrow(c2, c3).AsInt32().CopyTo(row[4..]);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    internal static void Lanes2AdvSimd<TOp>(ref ulong a, int o1, ref ulong w, int n,
        out Vector128<ulong> t0, out Vector128<ulong> t1, out Vector128<ulong> t2, out Vector128<ulong> t3,
        out Vector128<ulong> u0, out Vector128<ulong> u1, out Vector128<ulong> u2, out Vector128<ulong> u3) where TOp : IBitOp
    {
        t0 = t1 = t2 = t3 = u0 = u1 = u2 = u3 = Vector128<ulong>.Zero;
        int k = 0;
        while (k < n)
        {
            int end = Math.Min(n, k + FoldWords);
            Vector128<byte> b0 = default, b1 = default, b2 = default, b3 = default, d0 = default, d1 = default, d2 = default, d3 = default;
            for (; k < end; k++)
            {
                ref ulong row = ref Unsafe.Add(ref w, k * BlockFilters);
                var w0 = Vector128.LoadUnsafe(ref row);
                var w1 = Vector128.LoadUnsafe(ref row, 2);
                var w2 = Vector128.LoadUnsafe(ref row, 4);
                var w3 = Vector128.LoadUnsafe(ref row, 6);
                var x = Vector128.Create(Unsafe.Add(ref a, k));
                var y = Vector128.Create(Unsafe.Add(ref a, o1 + k));
                b0 += Arm.AdvSimd.PopCount(TOp.Apply(x, w0).AsByte());
                b1 += Arm.AdvSimd.PopCount(TOp.Apply(x, w1).AsByte());
                b2 += Arm.AdvSimd.PopCount(TOp.Apply(x, w2).AsByte());
                b3 += Arm.AdvSimd.PopCount(TOp.Apply(x, w3).AsByte());
                d0 += Arm.AdvSimd.PopCount(TOp.Apply(y, w0).AsByte());
                d1 += Arm.AdvSimd.PopCount(TOp.Apply(y, w1).AsByte());
                d2 += Arm.AdvSimd.PopCount(TOp.Apply(y, w2).AsByte());
                d3 += Arm.AdvSimd.PopCount(TOp.Apply(y, w3).AsByte());
            }
            t0 = Fold(t0, b0); t1 = Fold(t1, b1); t2 = Fold(t2, b2); t3 = Fold(t3, b3);
            u0 = Fold(u0, d0); u1 = Fold(u1, d1); u2 = Fold(u2, d2); u3 = Fold(u3, d3);
        }
    }

    /// <summary>Adds the byte sums of each 64-bit lane into <paramref name="total"/> (UADDLP, UADDLP, UADALP).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<ulong> Fold(Vector128<ulong> total, Vector128<byte> bytes) =>
        Arm.AdvSimd.AddPairwiseWideningAndAdd(total, Arm.AdvSimd.AddPairwiseWidening(Arm.AdvSimd.AddPairwiseWidening(bytes)));
}
