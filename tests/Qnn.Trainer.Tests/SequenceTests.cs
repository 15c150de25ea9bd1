using Qnn.Trainer.Sequence;
using Qnn.Trainer.Training;
using Xunit;

namespace Qnn.Trainer.Tests;

/// <summary>The language models of Sequence/: gradients, training, checkpoints, export and integer evaluation.</summary>
public class SequenceTests
{
    /// <summary>A small synthetic corpus: a Markov chain where token t is followed by (3t + 1) mod V four times in five.</summary>
    public static LmCorpus Synthetic(int vocab = 12, int trainTokens = 6000, int seed = 5)
    {
        var rng = new Random(seed);
        int[] Make(int n)
        {
            var a = new int[n];
            for (int i = 1; i < n; i++) a[i] = rng.NextDouble() < 0.8 ? (3 * a[i - 1] + 1) % vocab : rng.Next(vocab);
            return a;
        }
        return new LmCorpus("synthetic", Enumerable.Range(0, vocab).Select(i => $"w{i}").ToArray(), Make(trainTokens), Make(800), Make(800));
    }

    [Theory]
    [InlineData(RecurrentCell.Lstm)]
    [InlineData(RecurrentCell.Gru)]
    public void Float_backward_matches_finite_differences(RecurrentCell cell)
    {
        var shape = new LmShape(cell, 7, 3, 4, 2, new SequenceBits(32, 32, 32, 32), 0.25f);
        var model = new LanguageModel(shape, 2, 3);
        // Larger recurrent scales than the default, so the recurrent paths carry gradient the check can see.
        foreach (var l in model.Layers) Array.Fill(SequenceParameters.Data(l.Scale), 0.6f);
        int t = 3, b = 2, rows = t * b;
        int[] inputs = [1, 4, 6, 0, 2, 2];
        int[] targets = [4, 6, 0, 2, 2, 5];
        double Loss()
        {
            model.ResetState();
            var logits = model.Forward(inputs, t, b, true, 7);
            return LmLoss.Evaluate(logits, targets, rows, shape.Vocab, null, rows).Loss / rows;
        }
        model.ZeroGradients();
        model.ResetState();
        var lg = model.Forward(inputs, t, b, true, 7);
        var d = new float[rows * shape.Vocab];
        LmLoss.Evaluate(lg, targets, rows, shape.Vocab, d, rows);
        model.Backward(d);
        int checkedCount = 0;
        foreach (var p in model.Parameters)
        {
            var value = SequenceParameters.Data(p);
            var grad = SequenceParameters.Gradient(p);
            for (int i = 0; i < value.Length; i += Math.Max(1, value.Length / 9))
            {
                float keep = value[i];
                const float eps = 1e-2f;
                value[i] = keep + eps;
                double up = Loss();
                value[i] = keep - eps;
                double down = Loss();
                value[i] = keep;
                double numeric = (up - down) / (2 * eps);
                Assert.True(Math.Abs(numeric - grad[i]) <= 2e-3 + 0.05 * Math.Abs(numeric),
                    $"{p.Name}[{i}]: analytic {grad[i]}, numeric {numeric}");
                checkedCount++;
            }
        }
        Assert.True(checkedCount > 50);
    }

    public static TrainOptions SmallOptions(string arch = "lstm", int bits = 2) => new()
    {
        Dataset = "synthetic", Arch = arch, WeightBits = bits, ActBits = bits, Hidden = 24, Embed = 16, Layers = 1, Bptt = 10, Batch = 8,
        Epochs = 3, Lr = 0.01f, LrEnd = 0.003f, Seed = 2, Optimizer = "adam", Clip = 1f,
    };

    [Theory]
    [InlineData("lstm", 2)]
    [InlineData("gru", 2)]
    [InlineData("lstm", 32)]
    public void A_small_language_model_learns_the_synthetic_corpus(string arch, int bits)
    {
        var corpus = Synthetic();
        var loop = new LmTrainingLoop(SmallOptions(arch, bits), corpus);
        var before = loop.Evaluate(corpus.Test).Loss;
        var outcome = loop.Run();
        var after = loop.Evaluate(corpus.Test).Loss;
        // Uniform guessing is ln 12 = 2.48 nats; the chain's entropy is about 0.5 + 0.2·ln 12 ≈ 1.0.
        Assert.True(after < before - 0.5 && after < 1.6, $"{arch} {bits} bits: test loss {before:F3} -> {after:F3}");
        Assert.Equal(3, outcome.History.Count);
    }
}
