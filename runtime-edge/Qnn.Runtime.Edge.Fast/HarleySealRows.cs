using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Qnn.Runtime.Edge.Fast;

/// <summary>
/// The patch GEMM of the conv layers on AVX-512 with VBMI: <see cref="PopcountBlock.Rows{TOp}"/>'s sums for any number
/// of rows and any patch length, every word through Harley–Seal. <see cref="PopcountBlock"/>'s AVX-512 kernel counts whole
/// groups of 16 words by Harley–Seal and the rest by nibble table, and pays the count of its carry-save state (four
/// vectors, six operations each) per row, block and plane; with the 18 words of a 3×3 patch of 128 channels that fixed
/// part and the 2 rest words cost as much as the 16-word group itself. Here the rest words (fewer than 16) are first
/// reduced into the carry-save state by a few adders, the 16-word groups then add on top of it, and each state vector is
/// counted with two byte permutations (vpermb: a 64-entry table looks the low 6 bits of every byte up, a second one the
/// top 2 bits after a 2-bit shift), the table already weighted by the vector's place, so no nibble masks and no shifts
/// of the counts. The scalar kernel of <see cref="PopcountBlock"/> is the reference it must equal (PopcountBlockTests).
/// </summary>
public static class HarleySealRows
{
    /// <summary>Whether this process runs the kernel (AVX-512BW and VBMI; DOTNET_EnableAVX512F=0 turns it off).</summary>
    public static bool IsSupported => Avx512BW.IsSupported && Avx512Vbmi.IsSupported && Vector512.IsHardwareAccelerated;

    /// <summary>
    /// Whether it beats <see cref="PopcountBlock"/>'s 4 rows sharing each weight load: from 16 words a patch (one whole
    /// Harley–Seal group). Below, the rest words' adders and the count of the state cost more than the shared loads
    /// save (`dotnet run -c Release bench/tools/patch-gemm.cs -- 5,9,16,18,36,72`, 2026-12-02 09:42 UTC, load 5.4: 0.76×
    /// at 5 words, 0.85× at 9, 1.19× at 16, 1.30× at 18, 1.16× at 36, 1.22× at 72).
    /// </summary>
    public static bool Pays(int words) => IsSupported && words >= 16;

    /// <summary>
    /// sums[r·sumStride + b·8 + l] = Σ_i Σ_j popcount(op(patch_r,j, W_b,i,l)) &lt;&lt; (i + j) for every row r &lt; <paramref name="rows"/>
    /// (any number), block b &lt; <paramref name="blocks"/> and its 8 filters l; the layout of <see cref="PopcountBlock.Rows{TOp}"/>.
    /// Blocks outside, rows inside: a block's weight planes are read from L2 once for all rows, then from L1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows<TOp>(ReadOnlySpan<ulong> patches, int rows, int patchStride, int inputPlanes,
        ReadOnlySpan<ulong> weights, int blocks, int weightPlanes, int words, Span<int> sums, int sumStride) where TOp : IBitOp
    {
        const int filters = PopcountBlock.BlockFilters;
        int planeWords = words * filters;
        if (!IsSupported) throw new PlatformNotSupportedException("the Harley–Seal rows need AVX-512BW and VBMI");
        if (rows < 1 || words < 1 || sumStride < blocks * filters
            || patches.Length < (long)(rows - 1) * patchStride + inputPlanes * words
            || weights.Length < (long)blocks * weightPlanes * planeWords || sums.Length < (long)(rows - 1) * sumStride + blocks * filters)
            throw new ArgumentException("patches, weights or sums too short, or no rows");
        ref ulong p = ref MemoryMarshal.GetReference(patches);
        ref ulong w = ref MemoryMarshal.GetReference(weights);
        ref int s = ref MemoryMarshal.GetReference(sums);
        ref byte t = ref MemoryMarshal.GetArrayDataReference(Tables);
        var tables = new CountTables(
            Vector512.LoadUnsafe(ref t, 0 * 64), Vector512.LoadUnsafe(ref t, 1 * 64), Vector512.LoadUnsafe(ref t, 2 * 64), Vector512.LoadUnsafe(ref t, 3 * 64),
            Vector512.LoadUnsafe(ref t, 4 * 64), Vector512.LoadUnsafe(ref t, 5 * 64), Vector512.LoadUnsafe(ref t, 6 * 64), Vector512.LoadUnsafe(ref t, 7 * 64),
            Vector512.LoadUnsafe(ref t, 8 * 64), Vector512.LoadUnsafe(ref t, 9 * 64));
        for (int b = 0; b < blocks; b++)
        {
            ref ulong block = ref Unsafe.Add(ref w, b * weightPlanes * planeWords);
            for (int r = 0; r < rows; r++)
            {
                ref ulong row = ref Unsafe.Add(ref p, r * patchStride);
                Vector512<ulong> acc = default;
                for (int i = 0; i < weightPlanes; i++)
                    for (int j = 0; j < inputPlanes; j++)
                        acc += Count<TOp>(ref Unsafe.Add(ref row, j * words), ref Unsafe.Add(ref block, i * planeWords), words, tables) << (i + j);
                // Sums fit in 31 bits (SPEC 4): narrowing the lanes to 32 bits and storing 8 at once is exact.
                Vector512.Narrow(acc, acc).GetLower().AsInt32().StoreUnsafe(ref Unsafe.Add(ref s, r * sumStride + b * filters));
            }
        }
    }

    /// <summary>
    /// The byte-count tables, 64 bytes each: for weights 1, 2, 4, 8, 16 the weight times the popcount of the low 6 bits of
    /// an index (Low) and times the popcount of its bits 4–5 (High, looked up with the byte shifted right by 2, so
    /// that they are the byte's bits 6–7).
    /// </summary>
    private static readonly byte[] Tables = BuildTables();

    private static byte[] BuildTables()
    {
        var tables = new byte[10 * 64];
        for (int k = 0; k < 5; k++)
            for (int i = 0; i < 64; i++)
            {
                tables[2 * k * 64 + i] = (byte)(System.Numerics.BitOperations.PopCount((uint)i) << k);
                tables[(2 * k + 1) * 64 + i] = (byte)(System.Numerics.BitOperations.PopCount((uint)i >> 4) << k);
            }
        return tables;
    }

    private readonly record struct CountTables(
        Vector512<byte> Low1, Vector512<byte> High1, Vector512<byte> Low2, Vector512<byte> High2,
        Vector512<byte> Low4, Vector512<byte> High4, Vector512<byte> Low8, Vector512<byte> High8, Vector512<byte> Low16, Vector512<byte> High16);

    /// <summary>The popcount of every byte of <paramref name="x"/> times a weight, by the weight's two tables.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Weighted(Vector512<ulong> x, Vector512<byte> low, Vector512<byte> high) =>
        Avx512Vbmi.PermuteVar64x8(low, x.AsByte()) + Avx512Vbmi.PermuteVar64x8(high, Vector512.ShiftRightLogical(x.AsUInt16(), 2).AsByte());

    /// <summary>
    /// One row (at a) against one block plane of n words (any n ≥ 1): the 8 popcounts as 64-bit lanes. The n mod 16
    /// rest words go first into the empty carry-save state (ones, twos, fours, eights), a pair at a time by one adder whose
    /// carry is half-added up the places; adders into a place still empty are skipped (the count so far bounds which
    /// places can be set), so 2 rest words cost one adder and 4 cost three. The rest holds fewer than 16, so the eights
    /// never carry. Then the 16-word groups as in <see cref="PopcountBlock"/>, their carries (weight 16) counted a group
    /// at a time into bytes, folded every 31 groups (31·8 &lt; 256).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization | MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Count<TOp>(ref ulong a, ref ulong w, int n, in CountTables tables) where TOp : IBitOp
    {
        Vector512<ulong> ones = default, twos = default, fours = default, eights = default;
        int head = n & ~15, k = head, pair = 0;
        for (; k + 2 <= n; k += 2, pair++)
        {
            PopcountBlock.Csa(out var carry, ref ones, PopcountBlock.X<TOp>(ref a, ref w, k), PopcountBlock.X<TOp>(ref a, ref w, k + 1));
            CarryTwo(carry, pair, ref twos, ref fours, ref eights);
        }
        if (k < n)
        {
            // The odd word: half-added into the ones.
            var x = PopcountBlock.X<TOp>(ref a, ref w, k);
            var carry = ones & x;
            ones ^= x;
            if (pair > 0) CarryTwo(carry, pair, ref twos, ref fours, ref eights);
        }
        // Below 32 words every byte's weighted count is at most 8·31 = 248: the carries of weight 16 join the state's
        // bytes and one vpsadbw sums them all (the 18 words of 128 channels: one fold less per row and block).
        bool oneSum = n < 32;
        Vector512<ulong> sixteens = default;
        Vector512<byte> sixteenBytes = default, bytes = default;
        for (int g = 0, kk = 0; kk < head; kk += 16)
        {
            var carry = PopcountBlock.Group16<TOp>(ref Unsafe.Add(ref a, kk), ref Unsafe.Add(ref w, kk * PopcountBlock.BlockFilters),
                ref ones, ref twos, ref fours, ref eights);
            if (oneSum)
            {
                bytes += Weighted(carry, tables.Low16, tables.High16);
                continue;
            }
            sixteenBytes += Weighted(carry, tables.Low1, tables.High1);
            if (++g == 31)
            {
                sixteens += Avx512BW.SumAbsoluteDifferences(sixteenBytes, Vector512<byte>.Zero).AsUInt64();
                sixteenBytes = default;
                g = 0;
            }
        }
        // The state's weighted byte counts are the bits it holds, at most 15 per bit of a byte: 120 < 256.
        bytes += Weighted(ones, tables.Low1, tables.High1) + Weighted(twos, tables.Low2, tables.High2)
                 + Weighted(fours, tables.Low4, tables.High4) + Weighted(eights, tables.Low8, tables.High8);
        var total = Avx512BW.SumAbsoluteDifferences(bytes, Vector512<byte>.Zero).AsUInt64();
        if (oneSum) return total;
        sixteens += Avx512BW.SumAbsoluteDifferences(sixteenBytes, Vector512<byte>.Zero).AsUInt64();
        return (sixteens << 4) + total;
    }

    /// <summary>
    /// Adds <paramref name="carry"/>, the carry of rest pair number <paramref name="pair"/> (weight 2), to the twos and
    /// up: before pair p the state holds at most 2p, so the twos are empty at p = 0, the fours below p = 2, and the
    /// eights, which never carry (the rest is below 16), take the carry by XOR.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CarryTwo(Vector512<ulong> carry, int pair, ref Vector512<ulong> twos, ref Vector512<ulong> fours, ref Vector512<ulong> eights)
    {
        if (pair == 0) { twos = carry; return; }
        var four = twos & carry;
        twos ^= carry;
        if (pair == 1) { fours = four; return; }
        eights ^= fours & four;
        fours ^= four;
    }
}
