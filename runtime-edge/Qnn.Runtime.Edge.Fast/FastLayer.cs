using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Qnn.Runtime.Edge.Fast;

/// <summary>
/// A Dense or Conv2D layer prepared for the fast path: weights repacked into the bit-patch order of
/// <see cref="BitPatch"/> and interleaved by blocks of <see cref="PopcountBlock.BlockFilters"/> filters,
/// [block][weight plane][word][filter in block], so that one pass over a patch feeds 8 filters from one
/// sequential stream (register blocking). Filters past F in the last block are zero and ignored.
/// </summary>
public sealed class FastLayer
{
    public readonly LayerSpec Spec;
    public readonly LayerGeometry Geometry;
    /// <summary>64-bit words of one plane of a patch: ceil(KH·KW·C / 64).</summary>
    public readonly int PatchWords;
    public readonly int Blocks;

    /// <summary>The interleaved weights, on a 64-byte boundary (<see cref="AlignedWeights"/>).</summary>
    public readonly AlignedWeights Weights;
    /// <summary>Words of one block's weight plane: PatchWords · 8.</summary>
    public readonly int BlockPlaneWords;
    /// <summary>A log-weight layer's sign and exponent masks (SPEC 1.3), or null for odd levels.</summary>
    public readonly LogFilters? Log;

    /// <summary>Thresholds [c][l], flip per channel, score shifts and offsets, unpacked for the inner loop.</summary>
    public readonly int[] Thresholds = [];
    public readonly bool[] Flipped = [];
    public readonly int[] Shifts = [];
    public readonly int[] Offsets = [];

    /// <summary>
    /// The thresholds again as [level][filter] and the flips as masks (−1 flipped, 0 not), filters padded to whole
    /// vectors of 16, for <see cref="EmitQuad"/> and <see cref="Emit16"/>.
    /// </summary>
    /// <summary>
    /// For layers of one threshold per filter (binary outputs): per filter, padded to whole blocks, the bound of
    /// <see cref="DisagreementBound"/> on the kernel's sums, and per block the flips as 8 bits — what
    /// <see cref="PopcountBlock.RowsToBits{TOp}"/> compares against; null for other layers. Padding filters have bound −1
    /// and no flip: their bit is 0.
    /// </summary>
    public readonly long[]? DisagreementBounds;
    public readonly byte[]? FlipBits;

    private readonly int[] _levelThresholds = [];
    private readonly int[] _flipMasks = [];
    private readonly int _paddedFilters;

    public FastLayer(LayerSpec l)
    {
        Spec = l;
        Geometry = new LayerGeometry(l);
        if (l.Kind == LayerKind.MaxPool2D)
        {
            Weights = new AlignedWeights(0);
            return;
        }
        if (l.Output == OutputKind.Thresholds)
        {
            Thresholds = l.Thresholds ?? throw new ArgumentException("the fast path needs the model's layer data (ModelReader.Read with layers)");
            Flipped = Enumerable.Range(0, l.OutC).Select(l.IsFlipped).ToArray();
            int levels = Geometry.Levels;
            _paddedFilters = (l.OutC + 15) & ~15;
            _levelThresholds = new int[levels * _paddedFilters];
            _flipMasks = new int[_paddedFilters];
            for (int f = 0; f < l.OutC; f++)
            {
                _flipMasks[f] = Flipped[f] ? -1 : 0;
                for (int q = 0; q < levels; q++) _levelThresholds[q * _paddedFilters + f] = Thresholds[f * levels + q];
            }
        }
        else
        {
            Shifts = l.Shifts ?? throw new ArgumentException("the fast path needs the model's layer data (ModelReader.Read with layers)");
            Offsets = l.Offsets!;
        }
        long bits = (long)l.KernelH * l.KernelW * l.InC;
        PatchWords = (int)((bits + 63) >> 6);
        Blocks = (l.OutC + PopcountBlock.BlockFilters - 1) / PopcountBlock.BlockFilters;
        BlockPlaneWords = PatchWords * PopcountBlock.BlockFilters;
        Weights = new AlignedWeights(Blocks * l.WeightBits * BlockPlaneWords);
        var weights = Weights.Writable;
        var source = l.Weights ?? throw new ArgumentException("the fast path needs the model's layer data (ModelReader.Read with layers)");
        var row = new ulong[PatchWords + 1];
        int cw = Geometry.InChannelWords;
        int at = 0;
        for (int f = 0; f < l.OutC; f++)
        for (int i = 0; i < l.WeightBits; i++)
        {
            Array.Clear(row);
            long position = 0;
            for (int p = 0; p < l.KernelH * l.KernelW; p++, position += l.InC)
                for (int w = 0; w < cw; w++)
                    BitPatch.Append(row, position + (w << 5), source[at++]);
            int block = f / PopcountBlock.BlockFilters, lane = f % PopcountBlock.BlockFilters;
            long start = ((long)block * l.WeightBits + i) * BlockPlaneWords + lane;
            for (int w = 0; w < PatchWords; w++) weights[(int)(start + (long)w * PopcountBlock.BlockFilters)] = row[w];
        }
        if (l.WeightCode == WeightCode.Log) Log = new LogFilters(this);
        if (l.Output == OutputKind.Thresholds && Geometry.Levels == 1 && Log is null)
        {
            DisagreementBounds = new long[Blocks * PopcountBlock.BlockFilters];
            FlipBits = new byte[Blocks];
            Array.Fill(DisagreementBounds, -1);
            for (int f = 0; f < l.OutC; f++)
            {
                DisagreementBounds[f] = DisagreementBound(Geometry.AgreeAll, Thresholds[f], Flipped[f]);
                if (Flipped[f]) FlipBits[f / PopcountBlock.BlockFilters] |= (byte)(1 << (f % PopcountBlock.BlockFilters));
            }
        }
    }

    /// <summary>
    /// The threshold of a binary output (SPEC 1.6: agreements ≥ t, or ≤ t where flipped) moved onto the kernel's sum of
    /// disagreements d, agreements being AgreeAll − 2d (SPEC 1.4): agreements ≥ t ⟺ d ≤ ⌊(AgreeAll − t)/2⌋, and
    /// agreements ≤ t ⟺ d ≥ ⌈(AgreeAll − t)/2⌉ ⟺ not d ≤ ⌈(AgreeAll − t)/2⌉ − 1. So the output bit is
    /// (d ≤ bound) XOR flipped: one compare per filter, no agreements computed.
    /// </summary>
    public static long DisagreementBound(int agreeAll, int threshold, bool flipped)
    {
        long x = (long)agreeAll - threshold;
        return flipped ? ((x + 1) >> 1) - 1 : x >> 1;
    }

    /// <summary>The interleaved weights of filter block <paramref name="block"/>: its m planes of <see cref="BlockPlaneWords"/> words.</summary>
    public ReadOnlySpan<ulong> BlockWeights(int block) =>
        Weights.Span.Slice(block * Spec.WeightBits * BlockPlaneWords, Spec.WeightBits * BlockPlaneWords);

    /// <summary>
    /// <see cref="EmitQuad"/> for 16 filters at once (f0 a multiple of 16), on machines with 512-bit vectors: the 1024
    /// filters of a dense layer take 64 of these instead of 256 quads.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Emit16(uint[] output, int pixel, int f0, Vector512<int> acc)
    {
        var flip = Vector512.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(_flipMasks), (nuint)f0);
        ref int thresholds = ref MemoryMarshal.GetArrayDataReference(_levelThresholds);
        uint lanes = Spec.OutC - f0 >= 16 ? 0xFFFFu : (1u << (Spec.OutC - f0)) - 1;
        int word = pixel * Geometry.OutPixelWords + (f0 >> 5), shift = f0 & 31;
        if (Geometry.Levels == 1)
        {
            // One output bit (binary activations, the paper's case): the level is the comparison itself, one mask.
            var t = Vector512.LoadUnsafe(ref thresholds, (nuint)f0);
            var pass = Vector512.ConditionalSelect(flip, Vector512.LessThanOrEqual(acc, t), Vector512.GreaterThanOrEqual(acc, t));
            uint bit = (uint)pass.ExtractMostSignificantBits() & lanes;
            if (bit != 0) output[word] |= bit << shift;
            return;
        }
        var run = Vector512<int>.AllBitsSet;
        var q = Vector512<int>.Zero;
        for (int level = 0, at = f0; level < Geometry.Levels; level++, at += _paddedFilters)
        {
            var t = Vector512.LoadUnsafe(ref thresholds, (nuint)at);
            run &= Vector512.ConditionalSelect(flip, Vector512.LessThanOrEqual(acc, t), Vector512.GreaterThanOrEqual(acc, t));
            q -= run;
        }
        for (int j = 0; j < Spec.OutputBits; j++, word += Geometry.OutChannelWords)
        {
            uint bits = (uint)Vector512.ExtractMostSignificantBits(Vector512.Equals((q >>> j) & Vector512<int>.One, Vector512<int>.One)) & lanes;
            if (bits != 0) output[word] |= bits << shift;
        }
    }

    /// <summary>
    /// The levels of filters f0 … f0 + 3 (f0 a multiple of 4) for accumulators <paramref name="acc"/>, ORed into the
    /// output planes of <paramref name="pixel"/> (SPEC 1.6 and 1.2): lane by lane what Interpreter.Level gives — the
    /// number of thresholds passed before the first that is not (≥, or ≤ where flipped) — four filters at a time.
    /// Lanes past OutC write nothing.
    /// </summary>
    public void EmitQuad(uint[] output, int pixel, int f0, Vector128<int> acc)
    {
        var flip = Vector128.Create(_flipMasks.AsSpan(f0, 4));
        var run = Vector128<int>.AllBitsSet;
        var q = Vector128<int>.Zero;
        for (int level = 0, at = f0; level < Geometry.Levels; level++, at += _paddedFilters)
        {
            var t = Vector128.Create(_levelThresholds.AsSpan(at, 4));
            run &= Vector128.ConditionalSelect(flip, Vector128.LessThanOrEqual(acc, t), Vector128.GreaterThanOrEqual(acc, t));
            q -= run;
        }
        uint lanes = Spec.OutC - f0 >= 4 ? 0xFu : (1u << (Spec.OutC - f0)) - 1;
        int word = pixel * Geometry.OutPixelWords + (f0 >> 5), shift = f0 & 31;
        for (int j = 0; j < Spec.OutputBits; j++, word += Geometry.OutChannelWords)
        {
            uint bits = Vector128.ExtractMostSignificantBits(Vector128.Equals((q >>> j) & Vector128<int>.One, Vector128<int>.One)) & lanes;
            if (bits != 0) output[word] |= bits << shift;
        }
    }

    /// <summary>
    /// <see cref="Emit16"/> for 32 filters f0 … f0 + 31 of one output bit (Levels 1, f0 a multiple of 32, all 32 below
    /// OutC): the comparisons as two masks each (≥ and ≤), the flip word of the model (SPEC 1.6: channel c is bit c mod 32)
    /// choosing between them, and the output word written whole, not ORed two halves at a time — half the time of two
    /// Emit16 calls on a conv layer's 256 filters.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Emit32(uint[] output, int pixel, int f0, Vector512<int> acc0, Vector512<int> acc1)
    {
        ref int thresholds = ref MemoryMarshal.GetArrayDataReference(_levelThresholds);
        var t0 = Vector512.LoadUnsafe(ref thresholds, (nuint)f0);
        var t1 = Vector512.LoadUnsafe(ref thresholds, (nuint)(f0 + 16));
        uint atLeast = (uint)Vector512.GreaterThanOrEqual(acc0, t0).ExtractMostSignificantBits() | (uint)Vector512.GreaterThanOrEqual(acc1, t1).ExtractMostSignificantBits() << 16;
        uint atMost = (uint)Vector512.LessThanOrEqual(acc0, t0).ExtractMostSignificantBits() | (uint)Vector512.LessThanOrEqual(acc1, t1).ExtractMostSignificantBits() << 16;
        uint flip = Spec.Flip is { } words ? words[f0 >> 5] : 0;
        output[pixel * Geometry.OutPixelWords + (f0 >> 5)] = (atLeast & ~flip) | (atMost & flip);
    }
}

/// <summary>
/// A layer's packed weights starting on a 64-byte boundary: the AVX-512 kernels load them as whole 512-bit vectors,
/// and a vector split across two cache lines cost 15–40 % of a 1024 × 1024 layer in a harness (1.26 against 1.38–1.87
/// µs per row at 4 rows, 1.36 against 1.57–2.12 at 1, by misalignment of 16, 32, 48 bytes). .NET aligns arrays to 8
/// bytes only, so the words live in a pinned array (it never moves) 7 words longer, from its first aligned word. Read
/// by index like the array it replaced, and passed to the kernels as a span.
/// </summary>
public readonly struct AlignedWeights
{
    private readonly ulong[] _words;
    private readonly int _start;

    public AlignedWeights(int length)
    {
        _words = GC.AllocateArray<ulong>(length + 7, pinned: true);
        unsafe { _start = (int)((64 - (nint)Unsafe.AsPointer(ref _words[0]) % 64) % 64 / sizeof(ulong)); }
        Length = length;
    }

    public int Length { get; }

    public ulong this[long index] => Span[checked((int)index)];

    public ReadOnlySpan<ulong> Span => _words.AsSpan(_start, Length);

    internal Span<ulong> Writable => _words.AsSpan(_start, Length);

    public static implicit operator ReadOnlySpan<ulong>(AlignedWeights weights) => weights.Span;
}
