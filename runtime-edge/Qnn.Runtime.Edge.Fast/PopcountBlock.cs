using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Qnn.Runtime.Edge.Fast;

/// <summary>Which popcount kernel the fast path runs; every one gives the same integers.</summary>
public enum FastKernel
{
    /// <summary>The widest the machine supports.</summary>
    Auto,
    /// <summary>64-bit words and BitOperations.PopCount (POPCNT, or CNT on ARM64).</summary>
    Scalar,
    /// <summary>AVX2: 4 filters per 256-bit vector, byte popcount by nibble lookup (vpshufb), summed with vpsadbw.</summary>
    Avx2,
    /// <summary>AVX-512BW: the same with 8 filters per 512-bit vector.</summary>
    Avx512,
}

/// <summary>The bitwise product of SPEC 1.4: XOR for signed inputs (disagreements), AND for unsigned ones.</summary>
public interface IBitOp
{
    static abstract ulong Apply(ulong a, ulong w);
    static abstract Vector256<ulong> Apply(Vector256<ulong> a, Vector256<ulong> w);
    static abstract Vector512<ulong> Apply(Vector512<ulong> a, Vector512<ulong> w);
}

public struct XorOp : IBitOp
{
    public static ulong Apply(ulong a, ulong w) => a ^ w;
    public static Vector256<ulong> Apply(Vector256<ulong> a, Vector256<ulong> w) => a ^ w;
    public static Vector512<ulong> Apply(Vector512<ulong> a, Vector512<ulong> w) => a ^ w;
}

public struct AndOp : IBitOp
{
    public static ulong Apply(ulong a, ulong w) => a & w;
    public static Vector256<ulong> Apply(Vector256<ulong> a, Vector256<ulong> w) => a & w;
    public static Vector512<ulong> Apply(Vector512<ulong> a, Vector512<ulong> w) => a & w;
}

/// <summary>
/// The inner product of binary GEMM: one patch plane against a block of 8 interleaved filter planes
/// (<see cref="FastLayer"/>), giving 8 popcounts. The patch word is loaded once per 8 filters (register
/// blocking) and the weights are read as one sequential stream.
/// </summary>
public static class PopcountBlock
{
    public const int BlockFilters = 8;

    /// <summary>The kernel <see cref="FastKernel.Auto"/> stands for on this machine.</summary>
    public static FastKernel Resolve(FastKernel kernel)
    {
        if (kernel == FastKernel.Auto)
        {
            if (Avx512BW.IsSupported && Vector512.IsHardwareAccelerated) return FastKernel.Avx512;
            if (Avx2.IsSupported) return FastKernel.Avx2;
            return FastKernel.Scalar;
        }
        if (kernel == FastKernel.Avx2 && !Avx2.IsSupported) throw new PlatformNotSupportedException("this machine has no AVX2");
        if (kernel == FastKernel.Avx512 && !(Avx512BW.IsSupported && Vector512.IsHardwareAccelerated))
            throw new PlatformNotSupportedException("this machine has no AVX-512BW");
        return kernel;
    }

    /// <summary>counts[l] = Σ_w popcount(op(patch[w], block[w·8 + l])) for the 8 filters l of a block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Block<TOp>(FastKernel kernel, ReadOnlySpan<ulong> patch, ReadOnlySpan<ulong> block, Span<int> counts) where TOp : IBitOp
    {
        if (block.Length < patch.Length * BlockFilters || counts.Length < BlockFilters) throw new ArgumentException("block or counts too short");
        switch (kernel)
        {
            case FastKernel.Avx512: BlockAvx512<TOp>(patch, block, counts); break;
            case FastKernel.Avx2: BlockAvx2<TOp>(patch, block, counts); break;
            default: PlanesScalar<TOp>(patch, 1, block, 1, patch.Length, counts); break;
        }
    }

    // The tables below are the byte counts of a nibble, once per 128-bit lane (vpshufb looks up within each lane).
    // They are literal constants in each method: a static readonly vector costs a static-base load per call in
    // methods compiled with AggressiveOptimization, and a computed one may be rebuilt inside the loop.

    // A byte gains at most 8 per word, so byte sums are folded into 64-bit lanes every 31 words (31·8 < 256).
    private const int FoldWords = 31;

    private static void BlockAvx512<TOp>(ReadOnlySpan<ulong> patch, ReadOnlySpan<ulong> block, Span<int> counts) where TOp : IBitOp
    {
        var total = LanesAvx512<TOp>(patch, block);
        Vector512.Narrow(total, total).GetLower().AsInt32().StoreUnsafe(ref MemoryMarshal.GetReference(counts));
    }

    private static void BlockAvx2<TOp>(ReadOnlySpan<ulong> patch, ReadOnlySpan<ulong> block, Span<int> counts) where TOp : IBitOp
    {
        var (a, b) = LanesAvx2<TOp>(patch, block);
        Vector256.Narrow(a, b).AsInt32().StoreUnsafe(ref MemoryMarshal.GetReference(counts));
    }

    /// <summary>
    /// All plane pairs of one block at once (SPEC 1.4): sums[l] = Σ_i Σ_j popcount(op(patch_j, W_i,l)) &lt;&lt; (i + j),
    /// with patch plane j at [j·words, (j+1)·words) and weight plane i at [i·words·8, (i+1)·words·8). The SIMD kernels
    /// keep the shifted sums in vector registers and extract the 8 lanes once, instead of once per plane pair.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BlockPlanes<TOp>(FastKernel kernel, ReadOnlySpan<ulong> patch, int inputPlanes, ReadOnlySpan<ulong> block, int weightPlanes,
        int words, Span<int> sums) where TOp : IBitOp
    {
        int planeWords = words * BlockFilters;
        if (patch.Length < inputPlanes * words || block.Length < weightPlanes * planeWords || sums.Length < BlockFilters)
            throw new ArgumentException("patch, block or sums too short");
        switch (kernel)
        {
            case FastKernel.Avx512:
            {
                var acc = Vector512<ulong>.Zero;
                for (int i = 0; i < weightPlanes; i++)
                    for (int j = 0; j < inputPlanes; j++)
                        acc += LanesAvx512<TOp>(patch.Slice(j * words, words), block.Slice(i * planeWords, planeWords)) << (i + j);
                // Sums fit in 31 bits (SPEC 4): narrowing the lanes to 32 bits and storing 8 at once is exact.
                Vector512.Narrow(acc, acc).GetLower().AsInt32().StoreUnsafe(ref MemoryMarshal.GetReference(sums));
                break;
            }
            case FastKernel.Avx2:
            {
                Vector256<ulong> accA = Vector256<ulong>.Zero, accB = Vector256<ulong>.Zero;
                for (int i = 0; i < weightPlanes; i++)
                    for (int j = 0; j < inputPlanes; j++)
                    {
                        var (a, b) = LanesAvx2<TOp>(patch.Slice(j * words, words), block.Slice(i * planeWords, planeWords));
                        accA += a << (i + j);
                        accB += b << (i + j);
                    }
                Vector256.Narrow(accA, accB).AsInt32().StoreUnsafe(ref MemoryMarshal.GetReference(sums));
                break;
            }
            default:
                PlanesScalar<TOp>(patch, inputPlanes, block, weightPlanes, words, sums);
                break;
        }
    }

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

    /// <summary>The 8 popcounts of a block as the 64-bit lanes of one vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> LanesAvx512<TOp>(ReadOnlySpan<ulong> patch, ReadOnlySpan<ulong> block) where TOp : IBitOp
    {
        ref ulong a = ref MemoryMarshal.GetReference(patch);
        ref ulong w = ref MemoryMarshal.GetReference(block);
        var table = Vector512.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
        var low = Vector512.Create((byte)0x0F);
        var total = Vector512<ulong>.Zero;
        int n = patch.Length, i = 0;
        while (i < n)
        {
            int end = Math.Min(n, i + FoldWords);
            var bytes = Vector512<byte>.Zero;
            for (; i < end; i++)
            {
                var x = TOp.Apply(Vector512.Create(Unsafe.Add(ref a, i)), Vector512.LoadUnsafe(ref w, (nuint)(i * BlockFilters)));
                var lo = x.AsByte() & low;
                var hi = Vector512.ShiftRightLogical(x, 4).AsByte() & low;
                bytes += Avx512BW.Shuffle(table, lo) + Avx512BW.Shuffle(table, hi);
            }
            total += Avx512BW.SumAbsoluteDifferences(bytes, Vector512<byte>.Zero).AsUInt64();
        }
        return total;
    }

    /// <summary>The 8 popcounts of a block as the lanes of two vectors (filters 0–3, 4–7).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    private static (Vector256<ulong>, Vector256<ulong>) LanesAvx2<TOp>(ReadOnlySpan<ulong> patch, ReadOnlySpan<ulong> block) where TOp : IBitOp
    {
        ref ulong p = ref MemoryMarshal.GetReference(patch);
        ref ulong w = ref MemoryMarshal.GetReference(block);
        var table = Vector256.Create((byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
        var low = Vector256.Create((byte)0x0F);
        Vector256<ulong> totalA = Vector256<ulong>.Zero, totalB = Vector256<ulong>.Zero;
        int n = patch.Length, i = 0;
        while (i < n)
        {
            int end = Math.Min(n, i + FoldWords);
            Vector256<byte> bytesA = Vector256<byte>.Zero, bytesB = Vector256<byte>.Zero;
            for (; i < end; i++)
            {
                var a = Vector256.Create(Unsafe.Add(ref p, i));
                var xa = TOp.Apply(a, Vector256.LoadUnsafe(ref w, (nuint)(i * BlockFilters)));
                var xb = TOp.Apply(a, Vector256.LoadUnsafe(ref w, (nuint)(i * BlockFilters + 4)));
                bytesA += Avx2.Shuffle(table, xa.AsByte() & low) + Avx2.Shuffle(table, Vector256.ShiftRightLogical(xa, 4).AsByte() & low);
                bytesB += Avx2.Shuffle(table, xb.AsByte() & low) + Avx2.Shuffle(table, Vector256.ShiftRightLogical(xb, 4).AsByte() & low);
            }
            totalA += Avx2.SumAbsoluteDifferences(bytesA, Vector256<byte>.Zero).AsUInt64();
            totalB += Avx2.SumAbsoluteDifferences(bytesB, Vector256<byte>.Zero).AsUInt64();
        }
        return (totalA, totalB);
    }
}
