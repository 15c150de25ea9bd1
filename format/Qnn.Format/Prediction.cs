namespace Qnn.Format;

/// <summary>
/// SPEC 1.7, the predicted class: the lowest index among the highest scores. The one home of the rule for every
/// desktop path (fast path, GPU runtime, trainer's integer evaluation, verification). The portable interpreter,
/// whose nanoFramework subset has no spans, states it once more over an array (Interpreter.ArgMax); a test pins the
/// two to each other on random scores with ties.
/// </summary>
public static class Prediction
{
    public static int ArgMax(ReadOnlySpan<int> scores)
    {
        int best = 0;
        for (int c = 1; c < scores.Length; c++)
            if (scores[c] > scores[best]) best = c;
        return best;
    }

    /// <summary>The predicted class of each of <paramref name="count"/> samples whose scores lie one after another.</summary>
    public static void ArgMax(ReadOnlySpan<int> scores, int count, Span<int> predictions)
    {
        if (count == 0) return;
        int classes = scores.Length / count;
        for (int n = 0; n < count; n++) predictions[n] = ArgMax(scores.Slice(n * classes, classes));
    }
}
