using System.Numerics;

namespace Qnn.Runtime.Edge.Fast;

/// <summary>
/// A log-weight layer (SPEC 1.3: w = ±2^e, plane 0 the sign, planes 1 … m − 1 the exponent) prepared for the fast
/// path past the first layer: per filter its sign row S and one mask row M_e per exponent in the bit-patch order of
/// <see cref="BitPatch"/>, and N = Σ_c 2^(e_c). SPEC 1.4's signed accumulator is then
/// (2^k − 1)·N − 2·Σ_j Σ_e popcount((P_j XOR S) AND M_e) &lt;&lt; (j + e) over the patch planes P_j: 64-bit words and
/// the hardware popcount (.NET's portable vectors have no popcount), the shifts of the products instead of multiplies.
/// </summary>
public sealed class LogFilters
{
    private readonly int _filters, _exponents, _patchWords;
    /// <summary>[f][1 + E][PatchWords]: the sign row, then the masks of e = 0 … E − 1 (bits past KH·KW·C are 0 in all).</summary>
    private readonly ulong[] _rows;
    private readonly int[] _weightSums;

    public LogFilters(FastLayer layer)
    {
        var l = layer.Spec;
        if (l.WeightCode != WeightCode.Log) throw new ArgumentException("LogFilters takes a log-weight layer (SPEC 1.3)");
        _filters = l.OutC;
        _exponents = l.LogExponents;
        _patchWords = layer.PatchWords;
        int m = l.WeightBits, taps = l.KernelH * l.KernelW * l.InC;
        _rows = new ulong[_filters * (1 + _exponents) * _patchWords];
        _weightSums = new int[_filters];
        for (int f = 0; f < _filters; f++)
        {
            int block = f / PopcountBlock.BlockFilters, lane = f % PopcountBlock.BlockFilters;
            int rowBase = f * (1 + _exponents) * _patchWords;
            for (int t = 0; t < taps; t++)
            {
                int e = 0, sign = 0;
                for (int i = 0; i < m; i++)
                {
                    long word = ((long)block * m + i) * layer.BlockPlaneWords + (long)(t >> 6) * PopcountBlock.BlockFilters + lane;
                    int bit = (int)((layer.Weights[word] >> (t & 63)) & 1UL);
                    if (i == 0) sign = bit;
                    else e |= bit << (i - 1);
                }
                ulong tap = 1UL << (t & 63);
                if (sign != 0) _rows[rowBase + (t >> 6)] |= tap;
                _rows[rowBase + (1 + e) * _patchWords + (t >> 6)] |= tap;
                _weightSums[f] += 1 << e;
            }
        }
    }

    /// <summary>
    /// The accumulators of every filter for one signed patch (<paramref name="planes"/> planes of PatchWords words) into
    /// <paramref name="acc"/>[0 … F − 1].
    /// </summary>
    public void Signed(ReadOnlySpan<ulong> patch, int planes, Span<int> acc)
    {
        int pw = _patchWords;
        for (int f = 0; f < _filters; f++)
        {
            var rows = _rows.AsSpan(f * (1 + _exponents) * pw, (1 + _exponents) * pw);
            var sign = rows[..pw];
            int disagree = 0;
            for (int e = 0; e < _exponents; e++)
            {
                var mask = rows.Slice((1 + e) * pw, pw);
                for (int j = 0; j < planes; j++)
                {
                    var p = patch.Slice(j * pw, pw);
                    int count = 0;
                    for (int w = 0; w < pw; w++) count += BitOperations.PopCount((p[w] ^ sign[w]) & mask[w]);
                    disagree += count << (j + e);
                }
            }
            int n = _weightSums[f];
            acc[f] = (n << planes) - n - (disagree << 1);
        }
    }
}
