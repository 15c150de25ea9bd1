using ILGPU;

namespace Qnn.Runtime.Gpu.Kernels;

/// <summary>
/// The paper's baseline: the same network through an unoptimized float kernel, one thread per output, every
/// ±1 (or b-bit odd level, or unsigned pixel) held as a 32-bit float. Sums are exact integers while the layer's
/// accumulator bound stays below 2^24 (the float mantissa), which holds for the MNIST networks; the result is
/// validated against the portable interpreter like every other version.
/// </summary>
public static class FloatBaseline
{
    /// <summary>
    /// Unpacks the bit-packed input under each kernel position into one float per channel: index = row · Kf + kk,
    /// kk = (ky · KW + kx) · C + c. Padding is the lowest level (SPEC 1.4).
    /// </summary>
    public static void Im2ColKernel(Index1D index, ArrayView<uint> input, ArrayView<float> rows, ConvShape s)
    {
        int kf = s.KH * s.KW * s.InC;
        int kk = index % kf;
        int row = index / kf;
        int c = kk % s.InC;
        int p = kk / s.InC;
        int kx = p % s.KW;
        int ky = p / s.KW;
        int ox = row % s.ConvW;
        int t = row / s.ConvW;
        int oy = t % s.ConvH;
        int n = t / s.ConvH;
        int iy = oy * s.SH - s.PadTop + ky;
        int ix = ox * s.SW - s.PadLeft + kx;
        int top = (1 << s.InPlanes) - 1;
        int q = 0;
        if (iy >= 0 && iy < s.InH && ix >= 0 && ix < s.InW)
        {
            int b = n * s.InWords + (iy * s.InW + ix) * s.InPlanes * s.InCW + (c >> 5);
            for (int j = 0; j < s.InPlanes; j++)
                q |= (int)((input[b + j * s.InCW] >> (c & 31)) & 1u) << j;
        }
        rows[index] = s.Signed != 0 ? 2 * q - top : q;
    }

    /// <summary>One thread per accumulator: index.X = row, index.Y = filter (as <see cref="XnorGemm1"/>); a: [rows][kf], w: [F][kf].</summary>
    public static void GemmKernel(Index2D index, ArrayView<float> a, ArrayView<float> w, ArrayView<int> acc, int filters, int kf)
    {
        int row = index.X;
        int f = index.Y;
        float sum = 0f;
        for (int k = 0; k < kf; k++) sum += a[row * kf + k] * w[f * kf + k];
        acc[row * filters + f] = (int)sum;
    }

    /// <summary>Float results (cuBLAS) to integer accumulators.</summary>
    public static void ToIntKernel(Index1D index, ArrayView<float> values, ArrayView<int> acc) => acc[index] = (int)values[index];
}
