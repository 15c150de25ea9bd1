using System.Numerics;

namespace Qnn.Runtime.Edge.Fast;

/// <summary>
/// The first convolution of a model, computed straight from the image bytes. Its input is unsigned (SPEC 1.1: the
/// value x of a pixel's top b bits, planes 0 … b−1), and SPEC 1.4's accumulator for it,
/// 2 · Σ_i Σ_j popcount(x_j AND w_i) ≪ (i + j) − (2^m − 1) · Σ x, equals Σ over the window of x · v with v the
/// weight's odd level. Writing v = Σ_i 2^i · (2·w_i − 1) makes every term a shifted ±x: (x XOR s) − s with a sign
/// mask s of 0 (bit 1) or −1 (bit 0), for a vector of filters at a time — no multiplication, no bit patch. A
/// one-channel image fills only 9 of a patch word's 64 bits, so the popcount route spends most of its work on
/// zeros there; this route does one add per pixel, weight plane and filter vector.
/// </summary>
public sealed class FirstConv
{
    private readonly LayerSpec _l;
    /// <summary>[(ky·KW + kx)·C + c][weight plane i][filter, padded to whole vectors]: 0 for bit 1, −1 for bit 0.</summary>
    private readonly int[] _signs;
    private readonly int _imageShift;

    /// <summary>Filters rounded up to whole <see cref="Vector{T}"/> of ints: the length an accumulator span needs.</summary>
    public int PaddedFilters { get; }

    /// <summary>Whether layer <paramref name="index"/> is a convolution over the image (unsigned input).</summary>
    public static bool Applies(LayerSpec l, int index) => index == 0 && l.Kind == LayerKind.Conv2D && !l.InputSigned;

    public FirstConv(FastLayer layer, int modelInputBits)
    {
        var l = layer.Spec;
        if (!Applies(l, 0)) throw new ArgumentException("FirstConv takes a first Conv2D layer over the image");
        _l = l;
        _imageShift = 8 - modelInputBits;
        int lanes = Vector<int>.Count;
        PaddedFilters = (l.OutC + lanes - 1) / lanes * lanes;
        _signs = new int[Taps * l.WeightBits * PaddedFilters];
        for (int t = 0; t < Taps; t++)
        for (int i = 0; i < l.WeightBits; i++)
        for (int f = 0; f < l.OutC; f++)
        {
            // Bit t of plane i of filter f in the bit-patch order of FastLayer.Weights.
            int block = f / XnorGemm.BlockFilters, lane = f % XnorGemm.BlockFilters;
            long word = ((long)block * l.WeightBits + i) * layer.BlockPlaneWords + (long)(t >> 6) * XnorGemm.BlockFilters + lane;
            bool one = ((layer.Weights[word] >> (t & 63)) & 1UL) != 0;
            _signs[(t * l.WeightBits + i) * PaddedFilters + f] = one ? 0 : -1;
        }
    }

    /// <summary>Values (and their tap numbers) one window may hold: KH·KW·C; the spans <see cref="Window"/> takes.</summary>
    public int Taps => _l.KernelH * _l.KernelW * _l.InC;

    /// <summary>
    /// acc[f] (f &lt; OutC; the span holds <see cref="PaddedFilters"/>) for output pixel (oy, ox) of the conv.
    /// <paramref name="values"/> and <paramref name="taps"/> (each <see cref="Taps"/> long) are scratch.
    /// </summary>
    public void Window(ReadOnlySpan<byte> image, int oy, int ox, Span<int> acc, Span<int> values, Span<int> taps)
    {
        var l = _l;
        // The window's non-zero values: padding and dark pixels (x = 0, the lowest level) add nothing.
        int n = 0;
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
                    taps[n++] = tap + c;
                }
            }
        }
        // One vector of filters at a time, its sum kept in a register over the whole window.
        int width = PaddedFilters, planes = l.WeightBits, lanes = Vector<int>.Count, row = planes * width;
        for (int f = 0; f < width; f += lanes)
        {
            var a = Vector<int>.Zero;
            for (int t = 0; t < n; t++)
            {
                var vx = new Vector<int>(values[t]);
                int o = taps[t] * row + f;
                for (int i = 0; i < planes; i++, o += width)
                {
                    var s = new Vector<int>(_signs.AsSpan(o, lanes));
                    a += ((vx ^ s) - s) << i;
                }
            }
            a.CopyTo(acc.Slice(f, lanes));
        }
    }
}
