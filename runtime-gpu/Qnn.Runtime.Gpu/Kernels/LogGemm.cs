using ILGPU;

namespace Qnn.Runtime.Gpu.Kernels;

/// <summary>
/// Log weights (SPEC 1.3: w = ±2^e), one thread per accumulator, 32-bit words, as <see cref="XnorGemm1"/> is for odd
/// levels; every kernel version runs a log layer with it, then the same pooling, threshold and score epilogues.
/// Per filter the host has split the m planes into the sign row S and one mask row M_e per exponent (bits past C
/// cleared), and counted N_e = popcount(M_e). SPEC 1.4: signed input D_je = N_e − 2·popcount((A_j XOR S) AND M_e);
/// unsigned input D_je = 2·popcount(A_j AND S AND M_e) − popcount(A_j AND M_e); acc = Σ_je D_je &lt;&lt; (j + e).
/// </summary>
public static class LogGemm
{
    /// <summary>index.X = row, index.Y = filter. a: [row][j][2·K64] words, w: [f][1 + E][2·K64] words (S, then M_e), pop: [f][E].</summary>
    public static void Kernel(Index2D index, ArrayView<uint> a, ArrayView<uint> w, ArrayView<int> pop, ArrayView<int> acc, GemmShape g)
    {
        int row = index.X;
        int f = index.Y;
        int k32 = 2 * g.K64, exponents = g.Exponents;
        int sb = f * (1 + exponents) * k32;
        int total = 0;
        for (int j = 0; j < g.InPlanes; j++)
        {
            int ab = (row * g.InPlanes + j) * k32;
            for (int e = 0; e < exponents; e++)
            {
                int mb = sb + (1 + e) * k32;
                int x = 0, y = 0;
                for (int k = 0; k < k32; k++)
                {
                    uint av = a[ab + k], m = w[mb + k];
                    if (g.Signed != 0) x += IntrinsicMath.PopCount((av ^ w[sb + k]) & m);
                    else
                    {
                        x += IntrinsicMath.PopCount(av & w[sb + k] & m);
                        y += IntrinsicMath.PopCount(av & m);
                    }
                }
                int d = g.Signed != 0 ? pop[f * exponents + e] - 2 * x : 2 * x - y;
                total += d << (j + e);
            }
        }
        acc[row * g.Filters + f] = total;
    }
}
