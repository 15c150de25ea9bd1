using ILGPU;
using Qnn.Trainer.Backends;

namespace Qnn.Trainer.Gpu.Kernels;

/// <summary>
/// im2col, its adjoint and max-pooling over NHWC batches. The adjoints (col2im, the pooling backward) compute each
/// input element in one thread, summing the windows that touch it in the order the CPU loops visit them, so there
/// are no atomics and the sums are the CPU's bits.
/// </summary>
public static class ConvolutionKernels
{
    /// <summary>One thread per element of cols[(n·OH + oy)·OW + ox][(ky·KW + kx)·C + c].</summary>
    public static void Im2Col(Index1D index, ArrayView<float> x, ArrayView<float> cols, ConvGeometry g, float padValue)
    {
        int patch = g.Patch;
        int kk = (int)(index % patch), row = (int)(index / patch);
        int c = kk % g.InC, p = kk / g.InC, kx = p % g.KernelW, ky = p / g.KernelW;
        int ox = row % g.OutW, t = row / g.OutW, oy = t % g.OutH, n = t / g.OutH;
        int iy = oy * g.StrideH - g.PadTop + ky, ix = ox * g.StrideW - g.PadLeft + kx;
        cols[index] = iy < 0 || iy >= g.InH || ix < 0 || ix >= g.InW ? padValue : x[(((long)n * g.InH + iy) * g.InW + ix) * g.InC + c];
    }

    /// <summary>One thread per input element: the sum over the windows (oy, ox ascending) that cover it.</summary>
    public static void Col2Im(Index1D index, ArrayView<float> cols, ArrayView<float> dx, ConvGeometry g)
    {
        int c = (int)(index % g.InC), t = (int)(index / g.InC);
        int ix = t % g.InW;
        t /= g.InW;
        int iy = t % g.InH, n = t / g.InH;
        float sum = 0f;
        for (int oy = 0; oy < g.OutH; oy++)
        {
            int ky = iy - oy * g.StrideH + g.PadTop;
            if (ky < 0 || ky >= g.KernelH) continue;
            for (int ox = 0; ox < g.OutW; ox++)
            {
                int kx = ix - ox * g.StrideW + g.PadLeft;
                if (kx < 0 || kx >= g.KernelW) continue;
                long row = ((long)n * g.OutH + oy) * g.OutW + ox;
                sum += cols[row * g.Patch + (ky * g.KernelW + kx) * g.InC + c];
            }
        }
        dx[index] = sum;
    }

    public static void MaxPool(Index1D index, ArrayView<float> x, ArrayView<float> y, PoolGeometry g)
    {
        int c = (int)(index % g.C), t = (int)(index / g.C);
        int ox = t % g.OutW;
        t /= g.OutW;
        int oy = t % g.OutH, n = t / g.OutH;
        float best = float.NegativeInfinity;
        for (int py = 0; py < g.PoolH; py++)
            for (int px = 0; px < g.PoolW; px++)
                best = MathF.Max(best, x[(((long)n * g.InH + oy * g.StrideH + py) * g.InW + ox * g.StrideW + px) * g.C + c]);
        y[index] = best;
    }

    /// <summary>
    /// One thread per input element: the dy of every window (oy, ox ascending) whose first maximum (window order)
    /// is this element.
    /// </summary>
    public static void MaxPoolBackward(Index1D index, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dy, ArrayView<float> dx, PoolGeometry g)
    {
        int c = (int)(index % g.C), t = (int)(index / g.C);
        int ix = t % g.InW;
        t /= g.InW;
        int iy = t % g.InH, n = t / g.InH;
        float sum = 0f;
        for (int oy = 0; oy < g.OutH; oy++)
        {
            int py = iy - oy * g.StrideH;
            if (py < 0 || py >= g.PoolH) continue;
            for (int ox = 0; ox < g.OutW; ox++)
            {
                int px = ix - ox * g.StrideW;
                if (px < 0 || px >= g.PoolW) continue;
                long o = (((long)n * g.OutH + oy) * g.OutW + ox) * g.C + c;
                float best = y[o];
                // The first position of the window, in window order, that holds the maximum.
                int first = -1;
                for (int p = 0; p < g.PoolH * g.PoolW && first < 0; p++)
                {
                    long s = (((long)n * g.InH + oy * g.StrideH + p / g.PoolW) * g.InW + ox * g.StrideW + p % g.PoolW) * g.C + c;
                    if (x[s] == best) first = p;
                }
                if (first == py * g.PoolW + px) sum += dy[o];
            }
        }
        dx[index] = sum;
    }
}
