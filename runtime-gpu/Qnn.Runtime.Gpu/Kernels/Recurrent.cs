using ILGPU;
using ILGPU.Algorithms;

namespace Qnn.Runtime.Gpu.Kernels;

/// <summary>One LSTM or GRU layer stepped for a batch of sequences (SPEC 1.10).</summary>
public struct RecurrentShape
{
    public int Inputs, InputWords;     // X, ceil(X / 32)
    public int Hidden, HiddenWords;    // H, ceil(H / 32)
    public int Gates;                  // F = 4H (LSTM) or 3H (GRU)
    public int WeightPlanes, Bits;     // m, k
    public int GateBits, GateLevels;   // g, G = 2^g − 1
    public int Levels, CellLevels;     // L = 2^k − 1, S = 2^s − 1 (LSTM)
    public int Lstm;                   // 1 LSTM, 0 GRU
    public int Start0, Start1, Start2, Start3; // the gate thresholds' start of each gate's unit 0 (SPEC 2.4 order)
}

/// <summary>
/// The kernels of a sequence step (SPEC 1.10): the embedding lookup, the gate accumulators of every (sequence, gate
/// channel) as XNOR-popcount sums over W and U, and the LSTM or GRU units, one thread per output word.
/// </summary>
public static class Recurrent
{
    /// <summary>index = s · rowWords + w: the embedding row of sequence s's token.</summary>
    public static void EmbedKernel(Index1D index, ArrayView<uint> table, ArrayView<int> tokens, ArrayView<uint> output, int rowWords)
    {
        int s = index / rowWords, w = index - s * rowWords;
        output[index] = table[tokens[s] * rowWords + w];
    }

    /// <summary>
    /// index.X = sequence, index.Y = gate channel: acc_x over the input planes x and W's filter; acc_h over the previous
    /// output h and U's filter, 0 for a sequence not started (SPEC 1.4 signed form: D_ij = C − 2·popcount(A_j XOR W_i)).
    /// </summary>
    public static void GateKernel(Index2D index, ArrayView<uint> x, ArrayView<uint> h, ArrayView<uint> weights, ArrayView<int> started,
        ArrayView<int> accX, ArrayView<int> accH, RecurrentShape r)
    {
        int s = index.X, f = index.Y;
        accX[s * r.Gates + f] = Dot(x, s * r.Bits * r.InputWords, weights, f * r.WeightPlanes * r.InputWords, r.Inputs, r.InputWords, r);
        int uBase = r.Gates * r.WeightPlanes * r.InputWords;
        accH[s * r.Gates + f] = started[s] == 0 ? 0
            : Dot(h, s * r.Bits * r.HiddenWords, weights, uBase + f * r.WeightPlanes * r.HiddenWords, r.Hidden, r.HiddenWords, r);
    }

    private static int Dot(ArrayView<uint> a, int aBase, ArrayView<uint> w, int wBase, int channels, int words, RecurrentShape r)
    {
        int total = 0;
        for (int i = 0; i < r.WeightPlanes; i++)
            for (int j = 0; j < r.Bits; j++)
            {
                int pop = 0;
                for (int k = 0; k < words; k++)
                    pop += IntrinsicMath.PopCount(a[aBase + j * words + k] ^ w[wBase + i * words + k]);
                total += (channels - 2 * pop) << (i + j);
            }
        return total;
    }

    /// <summary>The level of <paramref name="a"/> by the <paramref name="count"/> thresholds at <paramref name="start"/> (SPEC 1.6, 1.10).</summary>
    public static int Level(int a, ArrayView<int> t, int start, int count, bool flipped)
    {
        int q = 0;
        for (int l = 0; l < count; l++)
        {
            int v = t[start + l];
            if (flipped ? a <= v : a >= v) q++;
        }
        return q;
    }

    private static bool Flipped(ArrayView<uint> flip, int f) => ((flip[f >> 5] >> (f & 31)) & 1u) != 0;

    /// <summary>prod(q, v) of SPEC 1.10 by shift-and-add, as the portable reference computes it.</summary>
    public static int Product(int q, int v)
    {
        int p = 0;
        for (int j = 0; q != 0; j++, q >>= 1)
            if ((q & 1) != 0) p += v << j;
        return p;
    }

    /// <summary>
    /// index = s · HW + cw: the LSTM or GRU step of the up to 32 units of output word cw of sequence s; reads h (the
    /// previous levels, GRU) and the cells, writes the new levels to next and the new cells.
    /// </summary>
    public static void UnitsKernel(Index1D index, ArrayView<int> accX, ArrayView<int> accH, ArrayView<int> gates, ArrayView<uint> flip,
        ArrayView<int> state, ArrayView<int> started, ArrayView<int> cells, ArrayView<uint> hidden, ArrayView<uint> next, RecurrentShape r)
    {
        int s = index / r.HiddenWords, cw = index - s * r.HiddenWords;
        int outBase = s * r.Bits * r.HiddenWords + cw;
        for (int j = 0; j < r.Bits; j++) next[outBase + j * r.HiddenWords] = 0;
        int u0 = cw * 32;
        int count = r.Hidden - u0 < 32 ? r.Hidden - u0 : 32;
        bool on = started[s] != 0;
        int G = r.GateLevels, L = r.Levels, H = r.Hidden;
        for (int b = 0; b < count; b++)
        {
            int u = u0 + b;
            int a = s * r.Gates + u;
            int qh;
            if (r.Lstm != 0)
            {
                int qi = Level(accX[a] + accH[a], gates, r.Start0 + u * G, G, Flipped(flip, u));
                int qf = Level(accX[a + H] + accH[a + H], gates, r.Start1 + u * G, G, Flipped(flip, u + H));
                int qg = Level(accX[a + 2 * H] + accH[a + 2 * H], gates, r.Start2 + u * L, L, Flipped(flip, u + 2 * H));
                int qo = Level(accX[a + 3 * H] + accH[a + 3 * H], gates, r.Start3 + u * G, G, Flipped(flip, u + 3 * H));
                int cPrev = on ? cells[s * H + u] : 0;
                int qc = Level(Product(qf, cPrev) + Product(qi, 2 * qg - L), state, 0, r.CellLevels, false);
                int c = 2 * qc - r.CellLevels;
                cells[s * H + u] = c;
                int qt = Level(c, state, r.CellLevels, L, false);
                qh = Level(Product(qo, 2 * qt - L), state, r.CellLevels + L, L, false);
            }
            else
            {
                int qr = Level(accX[a] + accH[a], gates, r.Start0 + u * G, G, Flipped(flip, u));
                int qz = Level(accX[a + H] + accH[a + H], gates, r.Start1 + u * G, G, Flipped(flip, u + H));
                int ax = accX[a + 2 * H];
                int n = (ax << r.GateBits) - ax + Product(qr, accH[a + 2 * H]);
                int qn = Level(n, gates, r.Start2 + u * L, L, Flipped(flip, u + 2 * H));
                int previous = 0;
                if (on)
                {
                    int q = 0;
                    for (int j = 0; j < r.Bits; j++) q |= (int)((hidden[outBase + j * r.HiddenWords] >> b) & 1u) << j;
                    previous = 2 * q - L;
                }
                qh = Level(Product(G - qz, 2 * qn - L) + Product(qz, previous), state, 0, L, false);
            }
            for (int j = 0; j < r.Bits; j++)
                if (((qh >> j) & 1) != 0) next[outBase + j * r.HiddenWords] |= 1u << b;
        }
    }
}
