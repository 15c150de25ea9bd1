using System.Numerics;

namespace Qnn.Trainer.LowPrecision;

/// <summary>
/// C = A · Bᵀ over bit-planes: the product of two matrices of odd levels with only XOR and popcount, the bitwise
/// training of the QNN paper (binary weights and activations, k-bit gradients: every product of the forward and
/// backward passes is a sum of plane-pair XNOR-popcounts). Exact: each C is an integer, as float32.
/// </summary>
public static unsafe class BitwiseGemm
{
    /// <summary>
    /// C[i·n + j] = Σ_p a(i, p) · b(j, p) for the rows of <paramref name="a"/> and <paramref name="b"/>
    /// (same K): Σ over plane pairs (s, t) of 2^(s+t) · (K − 2·popcount(a_s XOR b_t)), computed as
    /// L_a·L_b·K − 2·Σ 2^(s+t)·popcount(a_s XOR b_t) since Σ 2^(s+t) = L_a·L_b. Rows of A are split across
    /// threads; four rows of B at a time share each loaded word of A.
    /// </summary>
    public static void Multiply(LevelPlanes a, LevelPlanes b, float[] c)
    {
        if (a.K != b.K) throw new ArgumentException($"bit-plane products need the same K ({a.K} and {b.K})");
        int words = a.Words, pa = a.Planes, pb = b.Planes, n = b.Rows, m = a.Rows;
        long full = (long)a.Max * b.Max * a.K;
        int strideA = pa * words, strideB = pb * words;
        ulong[] ab = a.Bits, bb = b.Bits;
        Parallel.For(0, (m + 3) / 4, block =>
        {
            fixed (ulong* pA = ab, pB = bb)
            fixed (float* pC = c)
            {
                int i1 = Math.Min(m, block * 4 + 4);
                for (int i = block * 4; i < i1; i++)
                {
                    ulong* rowA = pA + (long)i * strideA;
                    float* rowC = pC + (long)i * n;
                    int j = 0;
                    for (; j + 4 <= n; j += 4)
                    {
                        ulong* b0 = pB + (long)j * strideB;
                        long w0 = 0, w1 = 0, w2 = 0, w3 = 0;
                        for (int s = 0; s < pa; s++)
                        {
                            ulong* planeA = rowA + s * words;
                            for (int t = 0; t < pb; t++)
                            {
                                ulong* q0 = b0 + t * words;
                                ulong* q1 = q0 + strideB, q2 = q1 + strideB, q3 = q2 + strideB;
                                int d0 = 0, d1 = 0, d2 = 0, d3 = 0;
                                for (int w = 0; w < words; w++)
                                {
                                    ulong x = planeA[w];
                                    d0 += BitOperations.PopCount(x ^ q0[w]);
                                    d1 += BitOperations.PopCount(x ^ q1[w]);
                                    d2 += BitOperations.PopCount(x ^ q2[w]);
                                    d3 += BitOperations.PopCount(x ^ q3[w]);
                                }
                                int shift = s + t;
                                w0 += (long)d0 << shift;
                                w1 += (long)d1 << shift;
                                w2 += (long)d2 << shift;
                                w3 += (long)d3 << shift;
                            }
                        }
                        rowC[j] = full - 2 * w0;
                        rowC[j + 1] = full - 2 * w1;
                        rowC[j + 2] = full - 2 * w2;
                        rowC[j + 3] = full - 2 * w3;
                    }
                    for (; j < n; j++)
                    {
                        ulong* rowB = pB + (long)j * strideB;
                        long weighted = 0;
                        for (int s = 0; s < pa; s++)
                            for (int t = 0; t < pb; t++)
                            {
                                int diff = 0;
                                for (int w = 0; w < words; w++) diff += BitOperations.PopCount(rowA[s * words + w] ^ rowB[t * words + w]);
                                weighted += (long)diff << (s + t);
                            }
                        rowC[j] = full - 2 * weighted;
                    }
                }
            }
        });
    }
}
