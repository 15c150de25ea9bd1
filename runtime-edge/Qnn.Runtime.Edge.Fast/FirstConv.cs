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
    }

    /// <summary>Values (and their tap numbers) one window may hold: KH·KW·C; the spans <see cref="Window"/> takes.</summary>
    public int Taps => _l.KernelH * _l.KernelW * _l.InC;

    /// <summary>
    /// acc[f] (f &lt; OutC; the span holds <see cref="PaddedFilters"/>) for output pixel (oy, ox) of the conv.
    /// <paramref name="values"/> and <paramref name="taps"/> (each <see cref="Taps"/> long) are scratch: a lit pixel's
    /// value and the offset of its masks within a vector's.
    /// </summary>
    public void Window(ReadOnlySpan<byte> image, int oy, int ox, Span<int> acc, Span<int> values, Span<int> taps)
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
}
