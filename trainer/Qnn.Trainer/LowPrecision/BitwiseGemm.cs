using System.Numerics;

namespace Qnn.Trainer.LowPrecision;

/// <summary>
/// C = A · Bᵀ over bit-planes: the product of two matrices of odd levels with only XOR and popcount, the bitwise
/// training of the QNN paper (binary weights and activations, k-bit gradients: every product of the forward and
/// backward passes is a sum of plane-pair XNOR-popcounts). Exact: each C is an integer, as float32.
/// </summary>
public static class BitwiseGemm
{
    /// <summary>
    /// C[i·ldc + j] = Σ_p a(i, p) · b(j, p) for the rows of <paramref name="a"/> and <paramref name="b"/>
    /// (same K): Σ over plane pairs (s, t) of 2^(s+t) · (K − 2·popcount(a_s XOR b_t)), computed as
    /// L_a·L_b·K − 2·Σ 2^(s+t)·popcount(a_s XOR b_t) since Σ 2^(s+t) = L_a·L_b.
    /// </summary>
    public static void Multiply(BitPlanes a, BitPlanes b, float[] c)
    {
        if (a.K != b.K) throw new ArgumentException($"bit-plane products need the same K ({a.K} and {b.K})");
        int words = a.Words, pa = a.Planes, pb = b.Planes, n = b.Rows;
        long full = (long)a.Max * b.Max * a.K;
        ulong[] ab = a.Bits, bb = b.Bits;
        Parallel.For(0, (a.Rows + 3) / 4, block =>
        {
            int i1 = Math.Min(a.Rows, block * 4 + 4);
            for (int i = block * 4; i < i1; i++)
            {
                var rowA = ab.AsSpan((int)((long)i * pa * words), pa * words);
                for (int j = 0; j < n; j++)
                {
                    var rowB = bb.AsSpan((int)((long)j * pb * words), pb * words);
                    long weighted = 0;
                    for (int s = 0; s < pa; s++)
                    {
                        var planeA = rowA.Slice(s * words, words);
                        for (int t = 0; t < pb; t++)
                        {
                            var planeB = rowB.Slice(t * words, words);
                            int diff = 0;
                            for (int w = 0; w < words; w++) diff += BitOperations.PopCount(planeA[w] ^ planeB[w]);
                            weighted += (long)diff << (s + t);
                        }
                    }
                    c[(long)i * n + j] = full - 2 * weighted;
                }
            }
        });
    }
}
