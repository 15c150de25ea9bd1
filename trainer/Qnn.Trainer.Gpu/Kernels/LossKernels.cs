using ILGPU;
using Qnn.Trainer.Backends;

namespace Qnn.Trainer.Gpu.Kernels;

/// <summary>One thread per sample: the CPU backend's loss loop body (squared hinge of the paper, or softmax cross-entropy).</summary>
public static class LossKernels
{
    public static void Loss(Index1D r, ArrayView<float> scores, ArrayView<float> labels, ArrayView<float> loss, ArrayView<float> dScores,
        int rows, int classes, int kind)
    {
        int label = (int)labels[r];
        int o = r * classes;
        if (kind == (int)LossKind.SquaredHinge)
        {
            double sum = 0;
            for (int c = 0; c < classes; c++)
            {
                float t = c == label ? 1f : -1f;
                float margin = MathF.Max(0f, 1f - t * scores[o + c]);
                sum += (double)margin * margin;
                dScores[o + c] = -2f * t * margin / ((float)rows * classes);
            }
            loss[r] = (float)(sum / classes);
        }
        else
        {
            float max = float.NegativeInfinity;
            for (int c = 0; c < classes; c++) max = MathF.Max(max, scores[o + c]);
            double z = 0;
            for (int c = 0; c < classes; c++) z += Math.Exp(scores[o + c] - max);
            for (int c = 0; c < classes; c++)
                dScores[o + c] = (float)((Math.Exp(scores[o + c] - max) / z - (c == label ? 1 : 0)) / rows);
            loss[r] = (float)(Math.Log(z) + max - scores[o + label]);
        }
    }
}
