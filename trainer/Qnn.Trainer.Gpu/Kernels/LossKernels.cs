using ILGPU;
using Qnn.Trainer.Backends;

namespace Qnn.Trainer.Gpu.Kernels;

/// <summary>One thread per sample: the CPU backend's loss loop, calling the same <see cref="LossRule"/>
/// (squared hinge of the paper, or softmax cross-entropy).</summary>
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
                float margin = LossRule.HingeMargin(scores[o + c], c == label);
                sum += (double)margin * margin;
                dScores[o + c] = LossRule.HingeGradient(margin, c == label, rows, classes);
            }
            loss[r] = (float)(sum / classes);
        }
        else
        {
            float max = float.NegativeInfinity;
            for (int c = 0; c < classes; c++) max = MathF.Max(max, scores[o + c]);
            double z = 0;
            for (int c = 0; c < classes; c++) z += Math.Exp(scores[o + c] - max);
            for (int c = 0; c < classes; c++) dScores[o + c] = LossRule.SoftmaxGradient(scores[o + c], max, z, c == label, rows);
            loss[r] = LossRule.SoftmaxLoss(z, max, scores[o + label]);
        }
    }
}
