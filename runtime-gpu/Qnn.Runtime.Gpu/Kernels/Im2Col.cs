using ILGPU;

namespace Qnn.Runtime.Gpu.Kernels;

/// <summary>
/// Bit-packed im2col: for every output pixel of a conv (or the single pixel of a dense layer) and every input
/// plane j, the row of input words under the kernel in the weight order [ky][kx][cw] (SPEC 1.3), so that the
/// layer becomes a binary GEMM against the filter rows. Positions outside the input are padding with all bits 0
/// (SPEC 1.4). Rows are padded with zero words to whole 64-bit words; a zero word in both operands adds nothing.
/// </summary>
public static class Im2Col
{
    /// <summary>One thread per 64-bit word: index = (row · InPlanes + j) · K64 + w.</summary>
    public static void Kernel(Index1D index, ArrayView<uint> input, ArrayView<ulong> rows, ConvShape s)
    {
        int w = index % s.K64;
        int t = index / s.K64;
        int j = t % s.InPlanes;
        int row = t / s.InPlanes;
        ulong lo = Word(input, s, row, j, 2 * w);
        ulong hi = Word(input, s, row, j, 2 * w + 1);
        rows[index] = lo | (hi << 32);
    }

    private static uint Word(ArrayView<uint> input, ConvShape s, int row, int j, int k)
    {
        if (k >= s.K32) return 0;
        int ox = row % s.ConvW;
        int t = row / s.ConvW;
        int oy = t % s.ConvH;
        int n = t / s.ConvH;
        int cw = k % s.InCW;
        int p = k / s.InCW;
        int kx = p % s.KW;
        int ky = p / s.KW;
        int iy = oy * s.SH - s.PadTop + ky;
        int ix = ox * s.SW - s.PadLeft + kx;
        if (iy < 0 || iy >= s.InH || ix < 0 || ix >= s.InW) return 0;
        return input[n * s.InWords + ((iy * s.InW + ix) * s.InPlanes + j) * s.InCW + cw];
    }
}
