using Qnn.Trainer.Backends;

namespace Qnn.Trainer.Sequence;

/// <summary>
/// Softmax cross-entropy over the vocabulary with <see cref="LossRule"/>'s terms (one home for the loss of both the
/// image classifiers and the language models). <see cref="RowLoss"/> is the one computation of a token's loss from
/// its logits, used by the training graph and by the integer evaluation, and <see cref="Mean"/> sums the losses in
/// prediction order, so the deployed model's perplexity equals the graph's to the last bit when its logits do.
/// Perplexity is e to the mean loss in nats.
/// </summary>
public static class LmLoss
{
    /// <summary>−log softmax(y)[target], and whether the highest logit (lowest index on ties) is the target.</summary>
    public static double RowLoss(ReadOnlySpan<float> y, int target, out bool correct, out float max, out double z)
    {
        int best = 0;
        for (int c = 1; c < y.Length; c++)
            if (y[c] > y[best]) best = c;
        max = y[best];
        z = 0;
        for (int c = 0; c < y.Length; c++) z += Math.Exp(y[c] - max);
        correct = best == target;
        return LossRule.SoftmaxLoss(z, max, y[target]);
    }

    /// <summary>
    /// Writes each row's loss to <paramref name="losses"/>[at + r] and returns the rows predicted right; with
    /// <paramref name="dLogits"/>, the gradient of the mean over <paramref name="meanOver"/> rows.
    /// </summary>
    public static int Evaluate(float[] logits, ReadOnlySpan<int> targets, int rows, int classes, double[] losses, int at, float[]? dLogits, int meanOver)
    {
        var correct = new bool[rows];
        var t = targets[..rows].ToArray();
        Parallel.For(0, rows, r =>
        {
            var y = logits.AsSpan(r * classes, classes);
            losses[at + r] = RowLoss(y, t[r], out correct[r], out float max, out double z);
            if (dLogits != null)
                for (int c = 0; c < classes; c++) dLogits[r * classes + c] = LossRule.SoftmaxGradient(y[c], max, z, c == t[r], meanOver);
        });
        return correct.Count(c => c);
    }

    /// <summary>The mean of <paramref name="losses"/>, summed in order.</summary>
    public static double Mean(ReadOnlySpan<double> losses)
    {
        double sum = 0;
        foreach (double l in losses) sum += l;
        return losses.Length == 0 ? double.NaN : sum / losses.Length;
    }

    public static double Perplexity(double meanLoss) => Math.Exp(meanLoss);
}
