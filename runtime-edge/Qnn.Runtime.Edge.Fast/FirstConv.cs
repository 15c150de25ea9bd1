using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Qnn.Runtime.Edge.Fast;

/// <summary>
/// The first convolution (or dense layer: a convolution whose kernel is its whole input) of a model, computed straight
/// from the image bytes. Its input is unsigned (SPEC 1.1: the value x of a pixel's top b bits, planes 0 … b−1), and
/// SPEC 1.4's accumulator for it, 2 · Σ_i Σ_j popcount(x_j AND w_i) ≪ (i + j) − (2^m − 1) · Σ x, equals
/// Σ_i ((2 · S_i − X) ≪ i) with X = Σ x over the window and S_i = Σ x over the taps whose weight bit w_i is 1:
/// one masked add of x per lit pixel, weight plane and filter, 16-bit lanes at a time — no bit patch (the AVX-512BW
/// pair route's vpmaddubsw multiplies by 0 or 1: a masked add of two taps at once). Dark pixels (x = 0: most of an
/// MNIST digit) and padding add nothing and are skipped, so the work follows the lit pixels; the popcount route would
/// also spend most of a conv patch word on a one-channel image's zeros. Three routes, by window size and machine:
/// gathered lit taps against bit masks (512-bit vectors) or byte masks (others) for windows of more than
/// <see cref="FoldTaps"/> taps; every tap of a smaller window, by pairs (AVX-512BW) or one at a time (others).
/// </summary>
public sealed class FirstConv
{
    /// <summary>Lit taps summed in 16-bit lanes before they are widened: 128 · 255 &lt; 2^15.</summary>
    private const int FoldTaps = 128;

    private readonly LayerSpec _l;
    /// <summary>
    /// The gathering route's masks without 512-bit vectors: [term][vector of filters v][tap (ky·KW + kx)·C + c][filter
    /// in the vector], −1 where the filter's weight lights the term, else 0. A vector's taps lie together, so one pass
    /// over a window's lit taps reads whole cache lines. Empty on the other routes.
    /// </summary>
    private readonly sbyte[] _masks = [];
    /// <summary>
    /// The gathering route's masks with 512-bit vectors: [term][tap][group of <see cref="GroupFilters"/> filters], one
    /// bit per filter, lane k of a group (filter 32g + k) at bit (k &amp; 1) · 16 + (k ≫ 1), so that a group's word
    /// broadcast to every 32-bit lane puts that bit in 16-bit lane k's half (<see cref="LaneBits"/>). 8× smaller than
    /// byte masks (784 × 1024 filters: 100 KB, not 802 KB), so they stay in L2 beside the later layers' weights, and a
    /// lit tap's groups are side by side. Empty on the other routes.
    /// </summary>
    private readonly uint[] _bitMasks = [];
    private readonly int _imageShift;
    /// <summary>
    /// The sums of x over masked taps that make up acc: term t adds (or, where <see cref="_subtract"/>, subtracts)
    /// S_t ≪ <see cref="_shifts"/>[t]. Odd levels: term i is weight bit i, shift i + 1, on top of −(2^m − 1) · X.
    /// Log weights (SPEC 1.3): terms 2e and 2e + 1 are the taps of exponent e with sign + and −, shift e, and no X.
    /// </summary>
    private readonly int[] _shifts;
    private readonly bool[] _subtract;
    private readonly bool _log;

    /// <summary>
    /// Whether windows are summed over every tap, branch-free, from the padded levels of <see cref="Levels"/> (a conv's
    /// small window), rather than over a gathered list of lit taps (a dense layer over the whole image). Gathering
    /// costs a data-dependent branch per tap, about as much as the masked adds it saves when a window has few taps;
    /// the all-taps route sums in 16-bit lanes with no fold, so it takes windows of up to <see cref="FoldTaps"/> taps.
    /// </summary>
    private readonly bool _everyTap;
    /// <summary>Padded image width and height (the all-taps route), and each tap's offset from its window's origin there.</summary>
    private readonly int _paddedW, _paddedH;
    /// <summary>
    /// ConvOutH and ConvOutW from the layer's geometry, computed once: LayerSpec computes them on every read by the
    /// portable core's shift-and-subtract division (30 iterations), which a per-pixel loop must not pay.
    /// </summary>
    private readonly int _outH, _outW;
    private readonly int[] _tapOffsets = [];
    /// <summary>
    /// The all-taps route's masks: [term][vector of filters v][tap][filter in the vector] in 16-bit lanes, −1 where
    /// the filter's weight lights the term, else 0, one lane per filter.
    /// </summary>
    private readonly Vector<short>[] _tapMasks = [];
    private readonly int _tapVectors;
    /// <summary>
    /// The all-taps route with AVX-512BW: [term][group of 32 filters v][tap pair p], 64 bytes each: byte 2k + h is 1
    /// where filter 32v + k lights the term at the pair's tap h, else 0. A window's taps go in pairs of neighbours
    /// within a kernel row (KW·C levels side by side in the padded image; an odd row's last pair reads one level past
    /// it, under a 0); vpmaddubsw multiplies a pair's two levels (one 16-bit broadcast) by the 0/1 bytes and sums them
    /// into the filter's 16-bit lane: two taps of 32 filters per instruction, against one tap of 16 with
    /// <see cref="Vector{T}"/>. Sums stay below 128 · 255 as before (each tap is counted once). Empty on other routes.
    /// </summary>
    private readonly Vector512<sbyte>[] _pairMasks = [];
    /// <summary>Each tap pair's byte offset from its window's origin in the padded byte levels.</summary>
    private readonly int[] _pairOffsets = [];

    /// <summary>Filters rounded up to whole <see cref="Vector{T}"/> of bytes: the length an accumulator span needs.</summary>
    public int PaddedFilters { get; }

    /// <summary>Bytes of the masks this layer reads (bits, byte masks or 16-bit lane masks, by route): its weights as the kernel streams them.</summary>
    public long MaskBytes => _bitMasks.LongLength * sizeof(uint) + _masks.LongLength + (_pairMasks.Length > 0 ? _pairMasks.LongLength * Vector512<sbyte>.Count : _tapMasks.LongLength * Vector<short>.Count * sizeof(short));

    /// <summary>Filters one pass over a window's lit taps computes together: one vector of bytes (<see cref="FilterSharing"/> counts in these).</summary>
    public static int FilterChunk => Vector<sbyte>.Count;

    /// <summary>Whether layer <paramref name="index"/> is a convolution or dense layer over the image (unsigned input).</summary>
    public static bool Applies(LayerSpec l, int index) => index == 0 && l.Kind != LayerKind.MaxPool2D && !l.InputSigned;

    public FirstConv(FastLayer layer, int modelInputBits)
    {
        var l = layer.Spec;
        if (!Applies(l, 0)) throw new ArgumentException("FirstConv takes a first Conv2D or Dense layer over the image");
        _l = l;
        _imageShift = 8 - modelInputBits;
        int chunk = FilterChunk;
        PaddedFilters = (l.OutC + chunk - 1) / chunk * chunk;
        _log = l.WeightCode == WeightCode.Log;
        int terms = _log ? 2 * l.LogExponents : l.WeightBits;
        _shifts = new int[terms];
        _subtract = new bool[terms];
        for (int i = 0; i < terms; i++)
        {
            _shifts[i] = _log ? i >> 1 : i + 1;
            _subtract[i] = _log && (i & 1) != 0;
        }
        // Whether the weights of filter f light term t at tap: its bits at the tap in the bit-patch order of FastLayer.Weights.
        int taps = Taps;
        var codes = new byte[taps * l.OutC];
        for (int t = 0; t < taps; t++)
        for (int f = 0; f < l.OutC; f++)
        {
            int code = 0;
            for (int i = 0; i < l.WeightBits; i++)
            {
                int block = f / PopcountBlock.BlockFilters, lane = f % PopcountBlock.BlockFilters;
                long word = ((long)block * l.WeightBits + i) * layer.BlockPlaneWords + (long)(t >> 6) * PopcountBlock.BlockFilters + lane;
                code |= (int)((layer.Weights[word] >> (t & 63)) & 1UL) << i;
            }
            codes[t * l.OutC + f] = (byte)code;
        }
        // Log: plane 0 the sign (1 = +), planes 1 … m − 1 the exponent; term 2e + 1 for a negative weight.
        bool Lit(int term, int t, int f)
        {
            if (f >= l.OutC) return false;
            int code = codes[t * l.OutC + f];
            return _log ? term == 2 * (code >> 1) + (1 - (code & 1)) : ((code >> term) & 1) != 0;
        }
        _outH = layer.Geometry.ConvOutH;
        _outW = layer.Geometry.ConvOutW;
        _everyTap = Taps <= FoldTaps;
        if (!_everyTap)
        {
            if (Vector512.IsHardwareAccelerated && PaddedFilters % GroupFilters == 0)
            {
                int groups = PaddedFilters / GroupFilters;
                _bitMasks = new uint[terms * taps * groups];
                for (int term = 0; term < terms; term++)
                    for (int t = 0; t < taps; t++)
                        for (int f = 0; f < l.OutC; f++)
                            if (Lit(term, t, f))
                            {
                                int k = f % GroupFilters;
                                _bitMasks[(term * taps + t) * groups + f / GroupFilters] |= 1u << ((k & 1) * 16 + (k >> 1));
                            }
                return;
            }
            _masks = new sbyte[taps * terms * PaddedFilters];
            for (int term = 0; term < terms; term++)
                for (int t = 0; t < taps; t++)
                    for (int f = 0; f < l.OutC; f++)
                        if (Lit(term, t, f)) _masks[(term * PaddedFilters + f - f % chunk) * taps + t * chunk + f % chunk] = -1;
            return;
        }
        _paddedW = l.InW + l.PadLeft + l.PadRight;
        _paddedH = l.InH + l.PadTop + l.PadBottom;
        _tapOffsets = new int[Taps];
        for (int ky = 0, t = 0; ky < l.KernelH; ky++)
            for (int kx = 0; kx < l.KernelW; kx++)
                for (int c = 0; c < l.InC; c++, t++) _tapOffsets[t] = (ky * _paddedW + kx) * l.InC + c;
        if (Avx512BW.IsSupported && Vector512.IsHardwareAccelerated && PaddedFilters % GroupFilters == 0)
        {
            int rowTaps = l.KernelW * l.InC, rowPairs = (rowTaps + 1) / 2, pairs = l.KernelH * rowPairs, groups = PaddedFilters / GroupFilters;
            _pairOffsets = new int[pairs];
            _pairMasks = new Vector512<sbyte>[terms * groups * pairs];
            var bytes = new sbyte[2 * GroupFilters];
            for (int ky = 0; ky < l.KernelH; ky++)
                for (int j = 0; j < rowPairs; j++)
                {
                    int pair = ky * rowPairs + j;
                    _pairOffsets[pair] = ky * _paddedW * l.InC + 2 * j;
                    for (int term = 0; term < terms; term++)
                        for (int v = 0; v < groups; v++)
                        {
                            for (int k = 0; k < GroupFilters; k++)
                                for (int h = 0; h < 2; h++)
                                    bytes[2 * k + h] = (sbyte)(2 * j + h < rowTaps && Lit(term, ky * rowTaps + 2 * j + h, v * GroupFilters + k) ? 1 : 0);
                            _pairMasks[(term * groups + v) * pairs + pair] = Vector512.Create<sbyte>(bytes);
                        }
                }
        }
        // The one-tap-at-a-time masks only where the pair route does not run (EveryTap returns before reading them).
        if (_pairMasks.Length > 0) return;
        int lanes = Vector<short>.Count;
        _tapVectors = PaddedFilters / lanes;
        _tapMasks = new Vector<short>[terms * _tapVectors * Taps];
        var vector = new short[lanes];
        for (int term = 0; term < terms; term++)
            for (int v = 0; v < _tapVectors; v++)
                for (int t = 0; t < Taps; t++)
                {
                    for (int k = 0; k < lanes; k++) vector[k] = (short)(Lit(term, t, v * lanes + k) ? -1 : 0);
                    _tapMasks[(term * _tapVectors + v) * Taps + t] = new Vector<short>(vector);
                }
    }

    /// <summary>Shorts of the padded levels <see cref="Levels"/> writes (0 when windows gather their lit taps instead).</summary>
    /// <remarks>
    /// The padded image, then a vector of zeros (a row's window totals read whole vectors past the image's last
    /// window), then the totals of one row of windows, rounded up to whole vectors.
    /// With the pair route, the padded image again as bytes (the levels fit: x ≤ 255), packed two to a short, with a
    /// vector of zeros past it (a row's last pair reads one level beyond its window).
    /// </remarks>
    public int LevelsLength => _everyTap ? ImageLevels + Vector<short>.Count + TotalsLength + (_pairMasks.Length > 0 ? PairLevelsLength : 0) : 0;

    /// <summary>Shorts of the byte levels: the padded image and 64 bytes of zeros, rounded up to whole shorts.</summary>
    private int PairLevelsLength => (ImageLevels + Vector512<byte>.Count + 1) / 2;

    private int ImageLevels => _paddedH * _paddedW * _l.InC;
    private int TotalsLength => (_outW + Vector<short>.Count - 1) / Vector<short>.Count * Vector<short>.Count;

    /// <summary>
    /// Once per image, before its windows: the levels x of its pixels inside the padding (x = 0 there, SPEC 1.4), as
    /// 16-bit values the all-taps route broadcasts with no bounds tests (the rest of <paramref name="levels"/> is the
    /// route's scratch). Does nothing when windows gather lit taps.
    /// </summary>
    public void Levels(ReadOnlySpan<byte> image, Span<short> levels)
    {
        if (!_everyTap) return;
        var l = _l;
        var padded = levels[..(ImageLevels + Vector<short>.Count)];
        padded.Clear();
        int row = l.InW * l.InC, paddedRow = _paddedW * l.InC;
        for (int y = 0; y < l.InH; y++)
        {
            var from = image.Slice(y * row, row);
            var to = padded.Slice((y + l.PadTop) * paddedRow + l.PadLeft * l.InC, row);
            for (int i = 0; i < row; i++) to[i] = (short)(from[i] >> _imageShift);
        }
        if (_pairMasks.Length == 0) return;
        var bytes = PairLevels(levels);
        bytes.Clear();
        for (int y = 0; y < l.InH; y++)
        {
            var from = image.Slice(y * row, row);
            var to = bytes.Slice((y + l.PadTop) * paddedRow + l.PadLeft * l.InC, row);
            for (int i = 0; i < row; i++) to[i] = (byte)(from[i] >> _imageShift);
        }
    }

    /// <summary>The pair route's byte levels within <paramref name="levels"/> (see <see cref="LevelsLength"/>).</summary>
    private Span<byte> PairLevels(Span<short> levels) =>
        MemoryMarshal.AsBytes(levels.Slice(ImageLevels + Vector<short>.Count + TotalsLength, PairLevelsLength));

    /// <summary>Values (and their tap numbers) one window may hold: KH·KW·C; the spans <see cref="Window"/> takes.</summary>
    public int Taps => _l.KernelH * _l.KernelW * _l.InC;

    /// <summary>
    /// The accumulators of output row <paramref name="oy"/> of the conv: acc[ox · <paramref name="pixelStride"/> + f]
    /// for f &lt; OutC. Each pixel's <see cref="PaddedFilters"/> are written in order of ox, so a stride of OutC packs
    /// the row (a fused pool's accumulator map) and the lanes past OutC of one pixel are overwritten by the next; acc
    /// must hold (ConvOutW − 1) · stride + PaddedFilters. <paramref name="levels"/> is what <see cref="Levels"/> wrote
    /// for this image; <paramref name="values"/> and <paramref name="taps"/> (each <see cref="Taps"/> long) are scratch.
    /// </summary>
    public void Row(ReadOnlySpan<byte> image, Span<short> levels, int oy, Span<int> acc, int pixelStride, Span<int> values, Span<int> taps)
    {
        int width = _outW;
        if (acc.Length < (width - 1) * pixelStride + PaddedFilters) throw new ArgumentException("acc too short for a row");
        if (_everyTap) EveryTap(levels, oy, acc, pixelStride);
        else
            for (int ox = 0; ox < width; ox++) Window(image, oy, ox, acc[(ox * pixelStride)..], values, taps);
    }

    /// <summary>Filters of one 512-bit vector of 16-bit lanes: one word of <see cref="_bitMasks"/>.</summary>
    private const int GroupFilters = 32;
    /// <summary>Groups of filters summed together: each lit tap's value is broadcast once for them, and 8 sums fit in registers.</summary>
    private const int GroupTile = 8;

    /// <summary>
    /// 16-bit lane k's bit of a group word broadcast to 32-bit lanes (see <see cref="_bitMasks"/>): 1 ≪ (k ≫ 1). A
    /// static readonly field, which the optimizing JIT reads as a constant and keeps in a register across the loop (a
    /// local built at the top of <see cref="LitBits"/> was spilled and read from the stack twice per group).
    /// </summary>
    private static readonly Vector512<ushort> LaneBits = Vector512.Create(Enumerable.Range(0, GroupFilters).Select(k => (ushort)(1 << (k >> 1))).ToArray());

    /// <summary>
    /// acc[f] (f &lt; OutC; the span holds <see cref="PaddedFilters"/>) for output pixel (oy, ox), from the window's
    /// lit taps: <paramref name="values"/> gets a lit pixel's value and <paramref name="taps"/> its tap number.
    /// </summary>
    private void Window(ReadOnlySpan<byte> image, int oy, int ox, Span<int> acc, Span<int> values, Span<int> taps)
    {
        int n = Gather(image, oy, ox, values, taps, out int total);
        // acc starts at −(2^m − 1) · X (0 for log weights); each term adds (or subtracts) S_t ≪ shift_t, summed in
        // 16-bit lanes over up to FoldTaps lit taps and then widened into acc.
        acc[..PaddedFilters].Fill(_log ? 0 : total - (total << _l.WeightBits));
        if (_bitMasks.Length > 0) LitBits(n, values, taps, acc);
        else LitBytes(n, values, taps, acc);
    }

    /// <summary>
    /// The window's lit taps (x = pixel ≫ (8 − bits) ≠ 0: padding and dark pixels add nothing) into
    /// <paramref name="values"/> and <paramref name="taps"/>, and X = Σ x. A window row's pixels lie side by side in the
    /// image, so its taps are found 16 pixels a compare, and only lit ones cost a turn of the loop (a branch per pixel,
    /// taken at random on a digit's edges, had cost as much as the adds).
    /// </summary>
    private int Gather(ReadOnlySpan<byte> image, int oy, int ox, Span<int> values, Span<int> taps, out int total)
    {
        var l = _l;
        int n = 0, shift = _imageShift, inC = l.InC;
        total = 0;
        // x ≠ 0 exactly when the byte exceeds 2^shift − 1 (an unsigned compare).
        var dark = Vector128.Create((byte)((1 << shift) - 1));
        int iy0 = oy * l.StrideH - l.PadTop, ix0 = ox * l.StrideW - l.PadLeft;
        int kx0 = Math.Max(0, -ix0), kx1 = Math.Min(l.KernelW, l.InW - ix0);
        if (kx0 >= kx1) return 0;
        int length = (kx1 - kx0) * inC;
        for (int ky = 0; ky < l.KernelH; ky++)
        {
            int iy = iy0 + ky;
            if (iy < 0 || iy >= l.InH) continue;
            var row = image.Slice((iy * l.InW + ix0 + kx0) * inC, length);
            int tap0 = (ky * l.KernelW + kx0) * inC, i = 0;
            for (; i + Vector128<byte>.Count <= length; i += Vector128<byte>.Count)
            {
                uint lit = Vector128.ExtractMostSignificantBits(Vector128.GreaterThan(Vector128.Create<byte>(row.Slice(i, Vector128<byte>.Count)), dark));
                for (; lit != 0; lit &= lit - 1)
                {
                    int at = i + BitOperations.TrailingZeroCount(lit), x = row[at] >> shift;
                    values[n] = x;
                    taps[n++] = tap0 + at;
                    total += x;
                }
            }
            for (; i < length; i++)
            {
                // Branch-free: every pixel is written, only a lit one is kept (n ≤ i, so the slot exists).
                int x = row[i] >> shift;
                values[n] = x;
                taps[n] = tap0 + i;
                n += x != 0 ? 1 : 0;
                total += x;
            }
        }
        return n;
    }

    /// <summary>
    /// S_t for every term and filter from 512-bit vectors and <see cref="_bitMasks"/>: per lit tap and group of 32
    /// filters, the group's word broadcast, each lane's bit tested (a mask register) and x added under the mask: three
    /// instructions per 32 filters, from 4 bytes of masks instead of 32. Groups go <see cref="GroupTile"/> at a time so
    /// that each lit tap's value is broadcast and its word address computed once for 8 groups.
    /// </summary>
    private void LitBits(int n, Span<int> values, Span<int> taps, Span<int> acc)
    {
        int groups = PaddedFilters / GroupFilters, terms = _shifts.Length, tapCount = Taps;
        ref int a = ref MemoryMarshal.GetReference(acc);
        ref int value = ref MemoryMarshal.GetReference(values);
        ref int tap = ref MemoryMarshal.GetReference(taps);
        // Gather returned n ≤ Taps values and taps below Taps: every word read lies inside this term's masks.
        for (int term = 0; term < terms; term++)
        {
            ref uint plane = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_bitMasks), term * tapCount * groups);
            int shift = _shifts[term];
            bool subtract = _subtract[term];
            for (int t0 = 0; t0 < n; t0 += FoldTaps)
            {
                int end = Math.Min(n, t0 + FoldTaps), g = 0;
                for (; g + GroupTile <= groups; g += GroupTile)
                {
                    Vector512<short> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
                    for (int t = t0; t < end; t++)
                    {
                        var x = Vector512.Create((short)Unsafe.Add(ref value, t));
                        ref uint words = ref Unsafe.Add(ref plane, Unsafe.Add(ref tap, t) * groups + g);
                        s0 = AddLit(s0, words, x);
                        s1 = AddLit(s1, Unsafe.Add(ref words, 1), x);
                        s2 = AddLit(s2, Unsafe.Add(ref words, 2), x);
                        s3 = AddLit(s3, Unsafe.Add(ref words, 3), x);
                        s4 = AddLit(s4, Unsafe.Add(ref words, 4), x);
                        s5 = AddLit(s5, Unsafe.Add(ref words, 5), x);
                        s6 = AddLit(s6, Unsafe.Add(ref words, 6), x);
                        s7 = AddLit(s7, Unsafe.Add(ref words, 7), x);
                    }
                    ref int group = ref Unsafe.Add(ref a, g * GroupFilters);
                    Fold(s0, ref group, shift, subtract);
                    Fold(s1, ref Unsafe.Add(ref group, GroupFilters), shift, subtract);
                    Fold(s2, ref Unsafe.Add(ref group, 2 * GroupFilters), shift, subtract);
                    Fold(s3, ref Unsafe.Add(ref group, 3 * GroupFilters), shift, subtract);
                    Fold(s4, ref Unsafe.Add(ref group, 4 * GroupFilters), shift, subtract);
                    Fold(s5, ref Unsafe.Add(ref group, 5 * GroupFilters), shift, subtract);
                    Fold(s6, ref Unsafe.Add(ref group, 6 * GroupFilters), shift, subtract);
                    Fold(s7, ref Unsafe.Add(ref group, 7 * GroupFilters), shift, subtract);
                }
                for (; g < groups; g++)
                {
                    Vector512<short> s0 = default;
                    for (int t = t0; t < end; t++)
                        s0 = AddLit(s0, Unsafe.Add(ref plane, Unsafe.Add(ref tap, t) * groups + g), Vector512.Create((short)Unsafe.Add(ref value, t)));
                    Fold(s0, ref Unsafe.Add(ref a, g * GroupFilters), shift, subtract);
                }
            }
        }
    }

    /// <summary>sum + x in the lanes whose filter's bit is set in <paramref name="word"/>: on AVX-512 a vpandd of the broadcast word, a vpcmpeqw into a mask register and a masked vpaddw.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> AddLit(Vector512<short> sum, uint word, Vector512<short> x) =>
        Vector512.ConditionalSelect(Vector512.Equals(Vector512.Create(word).AsUInt16() & LaneBits, LaneBits).AsInt16(), sum + x, sum);

    /// <summary>acc[0 … 31] ± (S ≪ shift): the 16-bit sums of one group widened into its 32-bit accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Fold(Vector512<short> sums, ref int acc, int shift, bool subtract)
    {
        var (low, high) = Vector512.Widen(sums);
        low <<= shift;
        high <<= shift;
        if (subtract) { low = -low; high = -high; }
        (Vector512.LoadUnsafe(ref acc) + low).StoreUnsafe(ref acc);
        (Vector512.LoadUnsafe(ref acc, (nuint)Vector512<int>.Count) + high).StoreUnsafe(ref acc, (nuint)Vector512<int>.Count);
    }

    /// <summary>
    /// S_t for every term and filter from <see cref="Vector{T}"/> and the byte masks <see cref="_masks"/> (machines
    /// without 512-bit vectors): per lit tap a vector of byte masks widened into two of 16-bit lanes, ANDed with x and added.
    /// </summary>
    private void LitBytes(int n, Span<int> values, Span<int> taps, Span<int> acc)
    {
        int planes = _shifts.Length, width = PaddedFilters, chunk = Vector<sbyte>.Count, ints = Vector<int>.Count;
        for (int f0 = 0; f0 < width; f0 += chunk)
        {
            var a = acc.Slice(f0, chunk);
            for (int i = 0; i < planes; i++)
            {
                ref sbyte masks = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_masks), (i * width + f0) * Taps);
                for (int t0 = 0; t0 < n; t0 += FoldTaps)
                {
                    int end = Math.Min(n, t0 + FoldTaps);
                    Vector<short> low = Vector<short>.Zero, high = Vector<short>.Zero;
                    for (int t = t0; t < end; t++)
                    {
                        // taps[t] < Taps (gathered above): inside this vector's masks, no bounds check needed.
                        Vector.Widen(Vector.LoadUnsafe(ref masks, (nuint)(taps[t] * chunk)), out var maskLow, out var maskHigh);
                        var x = new Vector<short>((short)values[t]);
                        low += maskLow & x;
                        high += maskHigh & x;
                    }
                    Vector.Widen(low, out var s0, out var s1);
                    Vector.Widen(high, out var s2, out var s3);
                    int shift = _shifts[i];
                    if (_subtract[i]) { s0 = -s0; s1 = -s1; s2 = -s2; s3 = -s3; }
                    (new Vector<int>(a) + (s0 << shift)).CopyTo(a);
                    (new Vector<int>(a[ints..]) + (s1 << shift)).CopyTo(a[ints..]);
                    (new Vector<int>(a[(2 * ints)..]) + (s2 << shift)).CopyTo(a[(2 * ints)..]);
                    (new Vector<int>(a[(3 * ints)..]) + (s3 << shift)).CopyTo(a[(3 * ints)..]);
                }
            }
        }
    }

    /// <summary>
    /// <see cref="Row"/> over every tap: per pixel, vector of filters and term, S = Σ_t (mask_t AND x_t) in 16-bit
    /// lanes (at most <see cref="FoldTaps"/> · 255, exact), widened once into acc. Vectors go two at a time, so each
    /// tap's broadcast serves both. A dark window (X = 0: every x is 0) has acc = 0 for every filter and term, so it
    /// costs only its sum and the stores.
    /// </summary>
    private void EveryTap(Span<short> levels, int oy, Span<int> acc, int pixelStride)
    {
        var l = _l;
        int taps = Taps, terms = _shifts.Length, vectors = _tapVectors, half = Vector<int>.Count, lanes = Vector<short>.Count;
        // Every window of the conv lies inside the padded image (ConvOutH and ConvOutW are defined so), and the tap
        // offsets stay inside a window; Row checked acc: one length test here, none per tap.
        if (levels.Length < LevelsLength || oy < 0 || oy >= _outH) throw new ArgumentException("levels too short or row out of range");
        ref short row = ref Unsafe.Add(ref MemoryMarshal.GetReference(levels), oy * l.StrideH * _paddedW * l.InC);
        ref int offsets = ref MemoryMarshal.GetArrayDataReference(_tapOffsets);
        ref Vector<short> masks = ref MemoryMarshal.GetArrayDataReference(_tapMasks);
        ref int shifts = ref MemoryMarshal.GetArrayDataReference(_shifts);
        ref bool subtract = ref MemoryMarshal.GetArrayDataReference(_subtract);
        ref int a = ref MemoryMarshal.GetReference(acc);
        int step = l.StrideW * l.InC, shift0 = _log ? 0 : l.WeightBits;
        // The windows' totals X first, tap by tap across the row: with windows one level apart (one channel, stride
        // 1: an image's first conv) a vector of windows per add, else one window at a time. X = 0 marks a dark window.
        ref short totals = ref Unsafe.Add(ref MemoryMarshal.GetReference(levels), ImageLevels + lanes);
        for (int ox = 0; ox < TotalsLength; ox += lanes) Vector<short>.Zero.StoreUnsafe(ref totals, (nuint)ox);
        for (int t = 0; t < taps; t++)
        {
            ref short x = ref Unsafe.Add(ref row, Unsafe.Add(ref offsets, t));
            if (step == 1)
                for (int ox = 0; ox < _outW; ox += lanes)
                    (Vector.LoadUnsafe(ref totals, (nuint)ox) + Vector.LoadUnsafe(ref x, (nuint)ox)).StoreUnsafe(ref totals, (nuint)ox);
            else
                for (int ox = 0; ox < _outW; ox++) Unsafe.Add(ref totals, ox) += Unsafe.Add(ref x, ox * step);
        }
        if (_pairMasks.Length > 0)
        {
            PairWindows(PairLevels(levels), oy, ref totals, ref a, pixelStride);
            return;
        }
        for (int ox = 0; ox < _outW; ox++, a = ref Unsafe.Add(ref a, pixelStride))
        {
            ref short x = ref Unsafe.Add(ref row, ox * step);
            int total = Unsafe.Add(ref totals, ox);
            // −(2^m − 1) · X; log weights have no X term (shift0 = 0 gives 0).
            var start = new Vector<int>(total - (total << shift0));
            for (int v = 0; v < vectors; v += 2)
            {
                bool pair = v + 1 < vectors;
                Vector<int> low0 = start, high0 = start, low1 = start, high1 = start;
                for (int term = 0; total != 0 && term < terms; term++)
                {
                    ref Vector<short> m0 = ref Unsafe.Add(ref masks, (term * vectors + v) * taps);
                    // Without a second vector, the first one's masks again (summed, not stored).
                    ref Vector<short> m1 = ref Unsafe.Add(ref m0, pair ? taps : 0);
                    Vector<short> s0 = default, s1 = default;
                    for (int t = 0; t < taps; t++)
                    {
                        var value = new Vector<short>(Unsafe.Add(ref x, Unsafe.Add(ref offsets, t)));
                        s0 += Unsafe.Add(ref m0, t) & value;
                        s1 += Unsafe.Add(ref m1, t) & value;
                    }
                    Vector.Widen(s0, out var w0, out var w1);
                    Vector.Widen(s1, out var w2, out var w3);
                    int shift = Unsafe.Add(ref shifts, term);
                    if (Unsafe.Add(ref subtract, term)) { low0 -= w0 << shift; high0 -= w1 << shift; low1 -= w2 << shift; high1 -= w3 << shift; }
                    else { low0 += w0 << shift; high0 += w1 << shift; low1 += w2 << shift; high1 += w3 << shift; }
                }
                low0.StoreUnsafe(ref a, (nuint)(v * lanes));
                high0.StoreUnsafe(ref a, (nuint)(v * lanes + half));
                if (!pair) continue;
                low1.StoreUnsafe(ref a, (nuint)(v * lanes + lanes));
                high1.StoreUnsafe(ref a, (nuint)(v * lanes + lanes + half));
            }
        }
    }

    /// <summary>
    /// The windows of row <paramref name="oy"/> by tap pairs (<see cref="_pairMasks"/>), given their totals X: per
    /// window and term, S over <see cref="PairTile"/> groups of 32 filters at a time, then the rest one at a time.
    /// </summary>
    private void PairWindows(Span<byte> bytes, int oy, ref short totals, ref int a, int pixelStride)
    {
        var l = _l;
        int pairs = _pairOffsets.Length, terms = _shifts.Length, groups = PaddedFilters / GroupFilters, half = Vector512<int>.Count;
        int step = l.StrideW * l.InC, shift0 = _log ? 0 : l.WeightBits;
        // Every window lies inside the padded image and a pair reads at most one byte past a window row; the bytes end
        // with 64 zeros: no bounds test per pair (EveryTap checked levels and oy).
        ref byte row = ref Unsafe.Add(ref MemoryMarshal.GetReference(bytes), oy * l.StrideH * _paddedW * l.InC);
        ref int offsets = ref MemoryMarshal.GetArrayDataReference(_pairOffsets);
        ref Vector512<sbyte> masks = ref MemoryMarshal.GetArrayDataReference(_pairMasks);
        for (int ox = 0; ox < _outW; ox++, a = ref Unsafe.Add(ref a, pixelStride))
        {
            ref byte window = ref Unsafe.Add(ref row, ox * step);
            int total = Unsafe.Add(ref totals, ox);
            // −(2^m − 1) · X; log weights have no X term (shift0 = 0 gives 0).
            var start = Vector512.Create(total - (total << shift0));
            int v = 0;
            for (; v + PairTile <= groups; v += PairTile)
            {
                Vector512<int> l0 = start, h0 = start, l1 = start, h1 = start, l2 = start, h2 = start, l3 = start, h3 = start;
                for (int term = 0; total != 0 && term < terms; term++)
                {
                    ref Vector512<sbyte> m0 = ref Unsafe.Add(ref masks, (term * groups + v) * pairs);
                    ref Vector512<sbyte> m1 = ref Unsafe.Add(ref m0, pairs);
                    ref Vector512<sbyte> m2 = ref Unsafe.Add(ref m0, 2 * pairs);
                    ref Vector512<sbyte> m3 = ref Unsafe.Add(ref m0, 3 * pairs);
                    Vector512<short> s0 = default, s1 = default, s2 = default, s3 = default;
                    for (int p = 0; p < pairs; p++)
                    {
                        var levels = PairAt(ref window, Unsafe.Add(ref offsets, p));
                        s0 += Avx512BW.MultiplyAddAdjacent(levels, Unsafe.Add(ref m0, p));
                        s1 += Avx512BW.MultiplyAddAdjacent(levels, Unsafe.Add(ref m1, p));
                        s2 += Avx512BW.MultiplyAddAdjacent(levels, Unsafe.Add(ref m2, p));
                        s3 += Avx512BW.MultiplyAddAdjacent(levels, Unsafe.Add(ref m3, p));
                    }
                    int shift = _shifts[term];
                    bool subtract = _subtract[term];
                    Accumulate(s0, shift, subtract, ref l0, ref h0);
                    Accumulate(s1, shift, subtract, ref l1, ref h1);
                    Accumulate(s2, shift, subtract, ref l2, ref h2);
                    Accumulate(s3, shift, subtract, ref l3, ref h3);
                }
                ref int group = ref Unsafe.Add(ref a, v * GroupFilters);
                l0.StoreUnsafe(ref group);
                h0.StoreUnsafe(ref group, (nuint)half);
                l1.StoreUnsafe(ref group, (nuint)GroupFilters);
                h1.StoreUnsafe(ref group, (nuint)(GroupFilters + half));
                l2.StoreUnsafe(ref group, (nuint)(2 * GroupFilters));
                h2.StoreUnsafe(ref group, (nuint)(2 * GroupFilters + half));
                l3.StoreUnsafe(ref group, (nuint)(3 * GroupFilters));
                h3.StoreUnsafe(ref group, (nuint)(3 * GroupFilters + half));
            }
            for (; v < groups; v++)
            {
                Vector512<int> l0 = start, h0 = start;
                for (int term = 0; total != 0 && term < terms; term++)
                {
                    ref Vector512<sbyte> m0 = ref Unsafe.Add(ref masks, (term * groups + v) * pairs);
                    Vector512<short> s0 = default;
                    for (int p = 0; p < pairs; p++) s0 += Avx512BW.MultiplyAddAdjacent(PairAt(ref window, Unsafe.Add(ref offsets, p)), Unsafe.Add(ref m0, p));
                    Accumulate(s0, _shifts[term], _subtract[term], ref l0, ref h0);
                }
                ref int group = ref Unsafe.Add(ref a, v * GroupFilters);
                l0.StoreUnsafe(ref group);
                h0.StoreUnsafe(ref group, (nuint)half);
            }
        }
    }

    /// <summary>Groups of 32 filters one pass over a window's pairs sums together (each pair broadcast once for them).</summary>
    private const int PairTile = 4;

    /// <summary>The two levels at <paramref name="offset"/> from the window's origin, broadcast to every 16-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> PairAt(ref byte window, int offset) =>
        Vector512.Create(Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref window, offset))).AsByte();

    /// <summary>low, high ± (S ≪ shift): one group's 16-bit sums widened into its two vectors of 32-bit accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Accumulate(Vector512<short> sums, int shift, bool subtract, ref Vector512<int> low, ref Vector512<int> high)
    {
        var (l, h) = Vector512.Widen(sums);
        if (subtract) { low -= l << shift; high -= h << shift; }
        else { low += l << shift; high += h << shift; }
    }
}
