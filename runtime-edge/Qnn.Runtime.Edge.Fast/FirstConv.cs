using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Numerics;

namespace Qnn.Runtime.Edge.Fast;

/// <summary>
/// The first convolution (or dense layer: a convolution whose kernel is its whole input) of a model, computed straight
/// from the image bytes. Its input is unsigned (SPEC 1.1: the value x of a pixel's top b bits, planes 0 … b−1), and
/// SPEC 1.4's accumulator for it, 2 · Σ_i Σ_j popcount(x_j AND w_i) ≪ (i + j) − (2^m − 1) · Σ x, equals
/// Σ_i ((2 · S_i − X) ≪ i) with X = Σ x over the window and S_i = Σ x over the taps whose weight bit w_i is 1:
/// one masked add of x per lit pixel, weight plane and filter, 16-bit lanes at a time — no multiplication, no bit
/// patch. Dark pixels (x = 0: most of an MNIST digit) and padding add nothing and are skipped, so the work follows
/// the lit pixels; the popcount route would also spend most of a conv patch word on a one-channel image's zeros.
/// </summary>
public sealed class FirstConv
{
    /// <summary>Lit taps summed in 16-bit lanes before they are widened: 128 · 255 &lt; 2^15.</summary>
    private const int FoldTaps = 128;

    private readonly LayerSpec _l;
    /// <summary>
    /// [weight plane i][vector of filters v][tap (ky·KW + kx)·C + c][filter in the vector]: −1 where the weight bit
    /// is 1, else 0. A vector's taps lie together, so one pass over a window's lit taps reads whole cache lines.
    /// </summary>
    private readonly sbyte[] _masks;
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
    /// the filter's weight lights the term, else 0 (the same bits as <see cref="_masks"/>, one lane per filter).
    /// </summary>
    private readonly Vector<short>[] _tapMasks = [];
    private readonly int _tapVectors;

    /// <summary>Filters rounded up to whole <see cref="Vector{T}"/> of bytes: the length an accumulator span needs.</summary>
    public int PaddedFilters { get; }

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
        _masks = new sbyte[Taps * terms * PaddedFilters];
        for (int t = 0; t < Taps; t++)
        for (int f = 0; f < l.OutC; f++)
        {
            int code = 0;
            for (int i = 0; i < l.WeightBits; i++)
            {
                // Bit t of plane i of filter f in the bit-patch order of FastLayer.Weights.
                int block = f / PopcountBlock.BlockFilters, lane = f % PopcountBlock.BlockFilters;
                long word = ((long)block * l.WeightBits + i) * layer.BlockPlaneWords + (long)(t >> 6) * PopcountBlock.BlockFilters + lane;
                code |= (int)((layer.Weights[word] >> (t & 63)) & 1UL) << i;
            }
            for (int term = 0; term < terms; term++)
            {
                // Log: plane 0 the sign (1 = +), planes 1 … m − 1 the exponent; term 2e + 1 for a negative weight.
                bool lit = _log ? term == 2 * (code >> 1) + (1 - (code & 1)) : ((code >> term) & 1) != 0;
                if (lit) _masks[(term * PaddedFilters + f - f % chunk) * Taps + t * chunk + f % chunk] = -1;
            }
        }
        _outH = layer.Geometry.ConvOutH;
        _outW = layer.Geometry.ConvOutW;
        _everyTap = Taps <= FoldTaps;
        if (!_everyTap) return;
        _paddedW = l.InW + l.PadLeft + l.PadRight;
        _paddedH = l.InH + l.PadTop + l.PadBottom;
        _tapOffsets = new int[Taps];
        for (int ky = 0, t = 0; ky < l.KernelH; ky++)
            for (int kx = 0; kx < l.KernelW; kx++)
                for (int c = 0; c < l.InC; c++, t++) _tapOffsets[t] = (ky * _paddedW + kx) * l.InC + c;
        int lanes = Vector<short>.Count;
        _tapVectors = PaddedFilters / lanes;
        _tapMasks = new Vector<short>[terms * _tapVectors * Taps];
        var vector = new short[lanes];
        for (int term = 0; term < terms; term++)
            for (int v = 0; v < _tapVectors; v++)
                for (int t = 0; t < Taps; t++)
                {
                    for (int k = 0; k < lanes; k++)
                    {
                        int f = v * lanes + k;
                        vector[k] = _masks[(term * PaddedFilters + f - f % chunk) * Taps + t * chunk + f % chunk];
                    }
                    _tapMasks[(term * _tapVectors + v) * Taps + t] = new Vector<short>(vector);
                }
    }

    /// <summary>Shorts of the padded levels <see cref="Levels"/> writes (0 when windows gather their lit taps instead).</summary>
    /// <remarks>
    /// The padded image, then a vector of zeros (a row's window totals read whole vectors past the image's last
    /// window), then the totals of one row of windows, rounded up to whole vectors.
    /// </remarks>
    public int LevelsLength => _everyTap ? ImageLevels + Vector<short>.Count + TotalsLength : 0;

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
    }

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

    /// <summary>
    /// acc[f] (f &lt; OutC; the span holds <see cref="PaddedFilters"/>) for output pixel (oy, ox), from the window's
    /// lit taps: <paramref name="values"/> gets a lit pixel's value and <paramref name="taps"/> the offset of its masks
    /// within a vector's.
    /// </summary>
    private void Window(ReadOnlySpan<byte> image, int oy, int ox, Span<int> acc, Span<int> values, Span<int> taps)
    {
        var l = _l;
        // The window's non-zero values: padding and dark pixels (x = 0, the lowest level) add nothing.
        int n = 0, total = 0, chunk = Vector<sbyte>.Count;
        int iy0 = oy * l.StrideH - l.PadTop, ix0 = ox * l.StrideW - l.PadLeft;
        for (int ky = 0; ky < l.KernelH; ky++)
        {
            int iy = iy0 + ky;
            if (iy < 0 || iy >= l.InH) continue;
            for (int kx = 0; kx < l.KernelW; kx++)
            {
                int ix = ix0 + kx;
                if (ix < 0 || ix >= l.InW) continue;
                int pixel = (iy * l.InW + ix) * l.InC, tap = (ky * l.KernelW + kx) * l.InC;
                for (int c = 0; c < l.InC; c++)
                {
                    int x = image[pixel + c] >> _imageShift;
                    if (x == 0) continue;
                    values[n] = x;
                    taps[n++] = (tap + c) * chunk;
                    total += x;
                }
            }
        }
        // acc starts at −(2^m − 1) · X (0 for log weights); each term adds (or subtracts) S_t ≪ shift_t, summed in 16-bit lanes over up to FoldTaps
        // lit taps and then widened into acc, for one vector of bytes' worth of filters at a time.
        int planes = _shifts.Length, width = PaddedFilters;
        int ints = Vector<int>.Count;
        acc[..width].Fill(_log ? 0 : total - (total << l.WeightBits));
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
                        // taps[t] < Taps · chunk (gathered above): inside this vector's masks, no bounds check needed.
                        Vector.Widen(Vector.LoadUnsafe(ref masks, (nuint)taps[t]), out var maskLow, out var maskHigh);
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
}
