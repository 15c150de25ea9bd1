using ILGPU;

namespace Qnn.Runtime.Gpu.Kernels;

/// <summary>
/// The first layer's input: 8-bit pixels shifted to the model's n input bits and split into n bit-planes of 0/1
/// bits (SPEC 1.1, 1.9), written in the SPEC 1.2 activation layout.
/// </summary>
public static class BitPlanes
{
    /// <summary>One thread per output word: index = (pixel · n + j) · CW + cw.</summary>
    public static void Kernel(Index1D index, ArrayView<byte> pixels, ArrayView<uint> planes, InputShape s)
    {
        int cw = index % s.ChannelWords;
        int t = index / s.ChannelWords;
        int j = t % s.Bits;
        int pixel = t / s.Bits;
        int c0 = cw * 32;
        int count = s.Channels - c0 < 32 ? s.Channels - c0 : 32;
        int shift = 8 - s.Bits + j;
        uint word = 0;
        for (int b = 0; b < count; b++)
            word |= (uint)((pixels[pixel * s.Channels + c0 + b] >> shift) & 1) << b;
        planes[index] = word;
    }
}
