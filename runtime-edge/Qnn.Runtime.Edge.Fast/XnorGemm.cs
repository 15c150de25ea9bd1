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
public static class XnorGemm
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
    public static void Block<TOp>(FastKernel kernel, ReadOnlySpan<ulong> patch, ReadOnlySpan<ulong> block, Span<int> counts) where TOp : IBitOp
    {
        if (block.Length < patch.Length * BlockFilters || counts.Length < BlockFilters) throw new ArgumentException("block or counts too short");
        switch (kernel)
        {
            case FastKernel.Avx512: BlockAvx512<TOp>(patch, block, counts); break;
            case FastKernel.Avx2: BlockAvx2<TOp>(patch, block, counts); break;
            default: BlockScalar<TOp>(patch, block, counts); break;
        }
    }

    private static void BlockScalar<TOp>(ReadOnlySpan<ulong> patch, ReadOnlySpan<ulong> block, Span<int> counts) where TOp : IBitOp
    {
        ref ulong a = ref MemoryMarshal.GetReference(patch);
        ref ulong w = ref MemoryMarshal.GetReference(block);
        int c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0, c7 = 0;
        for (int i = 0; i < patch.Length; i++)
        {
            ulong x = Unsafe.Add(ref a, i);
            ref ulong r = ref Unsafe.Add(ref w, i * BlockFilters);
            c0 += BitOperations.PopCount(TOp.Apply(x, r));
            c1 += BitOperations.PopCount(TOp.Apply(x, Unsafe.Add(ref r, 1)));
            c2 += BitOperations.PopCount(TOp.Apply(x, Unsafe.Add(ref r, 2)));
            c3 += BitOperations.PopCount(TOp.Apply(x, Unsafe.Add(ref r, 3)));
            c4 += BitOperations.PopCount(TOp.Apply(x, Unsafe.Add(ref r, 4)));
            c5 += BitOperations.PopCount(TOp.Apply(x, Unsafe.Add(ref r, 5)));
            c6 += BitOperations.PopCount(TOp.Apply(x, Unsafe.Add(ref r, 6)));
            c7 += BitOperations.PopCount(TOp.Apply(x, Unsafe.Add(ref r, 7)));
        }
        counts[0] = c0; counts[1] = c1; counts[2] = c2; counts[3] = c3;
        counts[4] = c4; counts[5] = c5; counts[6] = c6; counts[7] = c7;
    }

    // Byte counts of a nibble, for vpshufb (which looks up within each 128-bit lane, hence the repeats).
    private static readonly Vector512<byte> NibbleCounts = Vector512.Create(
        (byte)0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
        0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);

    // A byte gains at most 8 per word, so byte sums are folded into 64-bit lanes every 31 words (31·8 < 256).
    private const int FoldWords = 31;

    private static void BlockAvx512<TOp>(ReadOnlySpan<ulong> patch, ReadOnlySpan<ulong> block, Span<int> counts) where TOp : IBitOp
    {
        ref ulong w = ref MemoryMarshal.GetReference(block);
        var table = NibbleCounts;
        var low = Vector512.Create((byte)0x0F);
        var total = Vector512<ulong>.Zero;
        int n = patch.Length, i = 0;
        while (i < n)
        {
            int end = Math.Min(n, i + FoldWords);
            var bytes = Vector512<byte>.Zero;
            for (; i < end; i++)
            {
                var x = TOp.Apply(Vector512.Create(patch[i]), Vector512.LoadUnsafe(ref w, (nuint)(i * BlockFilters)));
                var lo = x.AsByte() & low;
                var hi = Vector512.ShiftRightLogical(x, 4).AsByte() & low;
                bytes += Avx512BW.Shuffle(table, lo) + Avx512BW.Shuffle(table, hi);
            }
            total += Avx512BW.SumAbsoluteDifferences(bytes, Vector512<byte>.Zero).AsUInt64();
        }
        for (int l = 0; l < BlockFilters; l++) counts[l] = (int)total[l];
    }

    private static void BlockAvx2<TOp>(ReadOnlySpan<ulong> patch, ReadOnlySpan<ulong> block, Span<int> counts) where TOp : IBitOp
    {
        ref ulong w = ref MemoryMarshal.GetReference(block);
        var table = NibbleCounts.GetLower();
        var low = Vector256.Create((byte)0x0F);
        Vector256<ulong> totalA = Vector256<ulong>.Zero, totalB = Vector256<ulong>.Zero;
        int n = patch.Length, i = 0;
        while (i < n)
        {
            int end = Math.Min(n, i + FoldWords);
            Vector256<byte> bytesA = Vector256<byte>.Zero, bytesB = Vector256<byte>.Zero;
            for (; i < end; i++)
            {
                var a = Vector256.Create(patch[i]);
                var xa = TOp.Apply(a, Vector256.LoadUnsafe(ref w, (nuint)(i * BlockFilters)));
                var xb = TOp.Apply(a, Vector256.LoadUnsafe(ref w, (nuint)(i * BlockFilters + 4)));
                bytesA += Avx2.Shuffle(table, xa.AsByte() & low) + Avx2.Shuffle(table, Vector256.ShiftRightLogical(xa, 4).AsByte() & low);
                bytesB += Avx2.Shuffle(table, xb.AsByte() & low) + Avx2.Shuffle(table, Vector256.ShiftRightLogical(xb, 4).AsByte() & low);
            }
            totalA += Avx2.SumAbsoluteDifferences(bytesA, Vector256<byte>.Zero).AsUInt64();
            totalB += Avx2.SumAbsoluteDifferences(bytesB, Vector256<byte>.Zero).AsUInt64();
        }
        for (int l = 0; l < 4; l++)
        {
            counts[l] = (int)totalA[l];
            counts[l + 4] = (int)totalB[l];
        }
    }
}
