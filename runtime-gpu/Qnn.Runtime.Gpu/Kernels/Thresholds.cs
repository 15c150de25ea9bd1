using ILGPU;

namespace Qnn.Runtime.Gpu.Kernels;

/// <summary>
/// Batch norm and the k-bit quantizer folded into thresholds (SPEC 1.6): an accumulator becomes the level
/// q = #{l : acc ≥ t_l} (or ≤ when the channel is flipped), and bit j of q goes to plane j of the output word.
/// </summary>
public static class Thresholds
{
    /// <summary>The level of accumulator <paramref name="acc"/> of channel <paramref name="f"/>.</summary>
    public static int Level(int acc, int f, ArrayView<int> thresholds, ArrayView<uint> flip, int levels)
    {
        bool flipped = ((flip[f >> 5] >> (f & 31)) & 1u) != 0;
        int b = f * levels;
        int q = 0;
        for (int l = 0; l < levels; l++)
        {
            int t = thresholds[b + l];
            if (flipped ? acc <= t : acc >= t) q++;
        }
        return q;
    }

    /// <summary>
    /// The unfused epilogue (versions 1 and 2, and pooled layers): one thread per output word position
    /// index = row · OutCW + cw; it owns that word in every plane and packs 32 channels into it.
    /// </summary>
    public static void PackKernel(Index1D index, ArrayView<int> acc, ArrayView<int> thresholds, ArrayView<uint> flip,
        ArrayView<uint> output, ThresholdShape s)
    {
        int cw = index % s.OutCW;
        int row = index / s.OutCW;
        int words = row * s.OutBits * s.OutCW + cw;
        for (int j = 0; j < s.OutBits; j++) output[words + j * s.OutCW] = 0;
        int f0 = cw * 32;
        int count = s.Filters - f0 < 32 ? s.Filters - f0 : 32;
        for (int b = 0; b < count; b++)
        {
            int q = Level(acc[row * s.Filters + f0 + b], f0 + b, thresholds, flip, s.Levels);
            for (int j = 0; j < s.OutBits; j++)
                if (((q >> j) & 1) != 0) output[words + j * s.OutCW] |= 1u << b;
        }
    }
}
