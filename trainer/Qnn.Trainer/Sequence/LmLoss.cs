using Qnn.Trainer.Backends;

namespace Qnn.Trainer.Sequence;

/// <summary>
/// Softmax cross-entropy over the vocabulary with <see cref="LossRule"/>'s terms (one home for the loss of both the
/// image classifiers and the language models), summed per row in a fixed order so a run is bit-reproducible.
/// Perplexity is e to the mean loss in nats.
/// </summary>
public static class LmLoss
{
    /// <summary>
    /// The summed loss and the number of rows whose highest logit (lowest index on ties) is the target; with
    /// <paramref name="dLogits"/>, the gradient of the mean over <paramref name="meanOver"/> rows.
    /// </summary>
    public static (double Loss, int Correct) Evaluate(float[] logits, ReadOnlySpan<int> targets, int rows, int classes, float[]? dLogits, int meanOver)
    {
        var loss = new double[rows];
        var correct = new bool[rows];
        var t = targets[..rows].ToArray();
        Parallel.For(0, rows, r =>
        {
            var y = logits.AsSpan(r * classes, classes);
            int best = 0;
            for (int c = 1; c < classes; c++)
                if (y[c] > y[best]) best = c;
            float max = y[best];
            double z = 0;
            for (int c = 0; c < classes; c++) z += Math.Exp(y[c] - max);
            loss[r] = LossRule.SoftmaxLoss(z, max, y[t[r]]);
            correct[r] = best == t[r];
            if (dLogits != null)
                for (int c = 0; c < classes; c++) dLogits[r * classes + c] = LossRule.SoftmaxGradient(y[c], max, z, c == t[r], meanOver);
        });
        double sum = 0;
        int ok = 0;
        for (int r = 0; r < rows; r++)
        {
            sum += loss[r];
            if (correct[r]) ok++;
        }
        return (sum, ok);
    }

    public static double Perplexity(double meanLoss) => Math.Exp(meanLoss);
}
