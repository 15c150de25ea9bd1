using ILGPU;

namespace Qnn.Trainer.Gpu.Kernels;

/// <summary>
/// C = A · Bᵀ for ±1 matrices (the hidden binary dense forward), as the CPU backend's SignGemm: rows packed 64 signs
/// to a word (a value ≥ 0 is +1), each dot product k − 2 · popcount(a XOR b). Exact.
/// </summary>
public static class SignGemm
{
    /// <summary>Word w of row r: bit i set when x[r·k + 64w + i] ≥ 0; bits past k stay 0 in both operands.</summary>
    public static void PackKernel(Index1D index, ArrayView<float> x, ArrayView<ulong> packed, int k, int words)
    {
        int r = index / words, w = index % words;
        ulong bits = 0;
        int c0 = w * 64, c1 = c0 + 64 < k ? c0 + 64 : k;
        for (int col = c0; col < c1; col++)
            if (x[(long)r * k + col] >= 0f) bits |= 1UL << (col - c0);
        packed[index] = bits;
    }

    /// <summary>One output per thread: index.X is the column j (a row of B), index.Y the row i of A.</summary>
    public static void ProductKernel(Index2D index, ArrayView<ulong> a, ArrayView<ulong> b, ArrayView<float> c, int n, int k, int words)
    {
        int j = index.X, i = index.Y;
        int diff = 0;
        for (int w = 0; w < words; w++) diff += IntrinsicMath.PopCount(a[i * words + w] ^ b[j * words + w]);
        c[(long)i * n + j] = k - 2 * diff;
    }
}
