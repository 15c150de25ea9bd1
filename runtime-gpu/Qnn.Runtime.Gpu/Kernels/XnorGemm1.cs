using ILGPU;

namespace Qnn.Runtime.Gpu.Kernels;

/// <summary>
/// Version 1, naive: one thread per accumulator, 32-bit words straight from global memory. It is the simplest
/// statement of SPEC 1.4 as a binary GEMM, and the first version every later one is compared with.
/// Signed input: D_ij = Kc − 2·popcount(A_j XOR W_i). Unsigned input: D_ij = 2·popcount(A_j AND W_i) − popcount(A_j)
/// = popcount(W_i) − popcount(A_j XOR W_i), so one XOR-popcount loop serves both (padding words are 0 in A and
/// contribute 0 either way). acc = Σ_ij D_ij &lt;&lt; (i + j).
/// </summary>
public static class XnorGemm1
{
    /// <summary>
    /// index.X = row, index.Y = filter (CUDA limits a grid's Y to 65535; rows reach batch × pixels, filters stay
    /// below it). a: [row][j][2·K64] words, w: [f][i][2·K64] words, wpop: [f][i].
    /// </summary>
    public static void Kernel(Index2D index, ArrayView<uint> a, ArrayView<uint> w, ArrayView<int> wpop, ArrayView<int> acc, GemmShape g)
    {
        int row = index.X;
        int f = index.Y;
        int k32 = 2 * g.K64;
        int total = 0;
        for (int j = 0; j < g.InPlanes; j++)
        {
            int ab = (row * g.InPlanes + j) * k32;
            for (int i = 0; i < g.WeightPlanes; i++)
            {
                int wb = (f * g.WeightPlanes + i) * k32;
                int x = 0;
                for (int k = 0; k < k32; k++)
                    x += IntrinsicMath.PopCount(a[ab + k] ^ w[wb + k]);
                total += Dot(x, g, wpop[f * g.WeightPlanes + i]) << (i + j);
            }
        }
        acc[row * g.Filters + f] = total;
    }

    /// <summary>The plane pair's dot product D_ij from its XOR popcount x (SPEC 1.4).</summary>
    public static int Dot(int x, GemmShape g, int weightPop) => g.Signed != 0 ? g.Kc - 2 * x : weightPop - x;
}
