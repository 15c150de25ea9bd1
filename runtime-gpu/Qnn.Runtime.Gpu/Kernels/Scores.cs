using ILGPU;

namespace Qnn.Runtime.Gpu.Kernels;

/// <summary>The last layer's class scores, score_c = (acc_c &lt;&lt; shift_c) + offset_c (SPEC 1.7).</summary>
public static class Scores
{
    /// <summary>One thread per score, index = n · classes + c.</summary>
    public static void Kernel(Index1D index, ArrayView<int> acc, ArrayView<int> offsets, ArrayView<int> shifts, ArrayView<int> scores, int classes)
    {
        int c = index % classes;
        scores[index] = (acc[index] << shifts[c]) + offsets[c];
    }
}
