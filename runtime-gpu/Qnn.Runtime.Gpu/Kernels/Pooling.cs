using ILGPU;

namespace Qnn.Runtime.Gpu.Kernels;

/// <summary>Max-pooling: on a conv's accumulators before its thresholds (SPEC 1.5), or on activation levels (SPEC 1.8).</summary>
public static class Pooling
{
    /// <summary>
    /// Fused pool on accumulators: one thread per pooled accumulator, index = ((n · OutH + oy) · OutW + ox) · F + f;
    /// input [n][InH][InW][F] (the conv's accumulators before the pool).
    /// </summary>
    public static void AccumulatorKernel(Index1D index, ArrayView<int> acc, ArrayView<int> pooled, PoolShape s)
    {
        int f = index % s.Channels;
        int t = index / s.Channels;
        int ox = t % s.OutW;
        t /= s.OutW;
        int oy = t % s.OutH;
        int n = t / s.OutH;
        int best = int.MinValue;
        for (int py = 0; py < s.PoolH; py++)
            for (int px = 0; px < s.PoolW; px++)
            {
                int v = acc[((n * s.InH + oy * s.StrideH + py) * s.InW + ox * s.StrideW + px) * s.Channels + f];
                if (v > best) best = v;
            }
        pooled[index] = best;
    }

    /// <summary>
    /// Standalone pool on levels: one thread per output word position, index = ((n · OutH + oy) · OutW + ox) · CW + cw.
    /// The maximum of 32 channels' k-bit levels is taken bit-sliced: comparing planes from the most significant
    /// down gives the mask of channels where the candidate is greater (for k = 1 this is a plain OR).
    /// </summary>
    public static void LevelKernel(Index1D index, ArrayView<uint> input, ArrayView<uint> output, PoolShape s)
    {
        int cw = index % s.ChannelWords;
        int t = index / s.ChannelWords;
        int ox = t % s.OutW;
        t /= s.OutW;
        int oy = t % s.OutH;
        int n = t / s.OutH;
        int pixelWords = s.Bits * s.ChannelWords;
        int outBase = ((n * s.OutH + oy) * s.OutW + ox) * pixelWords + cw;
        for (int py = 0; py < s.PoolH; py++)
            for (int px = 0; px < s.PoolW; px++)
            {
                int inBase = ((n * s.InH + oy * s.StrideH + py) * s.InW + ox * s.StrideW + px) * pixelWords + cw;
                if (py == 0 && px == 0)
                {
                    for (int j = 0; j < s.Bits; j++) output[outBase + j * s.ChannelWords] = input[inBase + j * s.ChannelWords];
                    continue;
                }
                uint greater = 0, equal = ~0u;
                for (int j = s.Bits - 1; j >= 0; j--)
                {
                    uint x = input[inBase + j * s.ChannelWords], m = output[outBase + j * s.ChannelWords];
                    greater |= equal & x & ~m;
                    equal &= ~(x ^ m);
                }
                for (int j = 0; j < s.Bits; j++)
                {
                    uint x = input[inBase + j * s.ChannelWords], m = output[outBase + j * s.ChannelWords];
                    output[outBase + j * s.ChannelWords] = (x & greater) | (m & ~greater);
                }
            }
    }
}
