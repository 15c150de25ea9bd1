using Qnn.Format;
using Qnn.Runtime.Edge;
using Qnn.Trainer.Export;
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
            var losses = new double[rows];
            LmLoss.Evaluate(logits, targets, rows, shape.Vocab, losses, 0, null, rows);
            return LmLoss.Mean(losses);
        }
        model.ZeroGradients();
        model.ResetState();
        var lg = model.Forward(inputs, t, b, true, 7);
        var d = new float[rows * shape.Vocab];
        LmLoss.Evaluate(lg, targets, rows, shape.Vocab, new double[rows], 0, d, rows);
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

    [Theory]
    [InlineData("lstm", 2, 1, 0, 0)]
    [InlineData("gru", 2, 1, 0, 0)]
    [InlineData("lstm", 3, 2, 2, 4)]
    [InlineData("gru", 1, 2, 3, 0)]
    public void The_exported_model_gives_the_graphs_perplexity_exactly_and_the_portable_interpreters_scores(string arch, int bits, int layers, int gateBits, int cellBits)
    {
        var corpus = Synthetic();
        var options = SmallOptions(arch, bits) with { Layers = layers, Epochs = 1, GateBits = gateBits, CellBits = cellBits };
        var loop = new LmTrainingLoop(options, corpus);
        loop.Run();
        Assert.True(loop.Evaluate(corpus.Test).Loss < Math.Log(corpus.Vocabulary.Count) - 0.3);
        // Some negative scales, so flipped gate channels and a negated output layer are exercised too.
        var scale = SequenceParameters.Data(loop.Model.Layers[0].Scale);
        for (int i = 0; i < scale.Length; i += 5) scale[i] = -scale[i];
        SequenceParameters.Data(loop.Model.OutScale)[0] *= -1;
        var (floatLoss, floatAcc) = loop.Evaluate(corpus.Test, out var floatLosses);
        var exported = SequenceExporter.Export(loop.Model, corpus.Vocabulary);
        var model = ModelFile.Parse(ModelWriter.Write(exported), "lm.qnn");
        var integer = new SequenceIntegerEvaluation(model);
        var (intLoss, intAcc) = integer.Evaluate(corpus.Test, options.Batch, out var intLosses);
        Assert.Equal(floatLosses, intLosses);
        Assert.Equal(floatLoss, intLoss);
        Assert.Equal(floatAcc, intAcc);

        // The portable interpreter (runtime-edge, SPEC 1.10's reference) gives the same scores at every step.
        var portable = new SequenceInterpreter(model);
        var mine = integer.NewStream();
        int v = corpus.Vocabulary.Count;
        int[] a = new int[v], b = new int[v];
        for (int i = 0; i < 300; i++)
        {
            if (i == 150)
            {
                portable.Reset();
                mine.Reset();
            }
            portable.Step(corpus.Test[i], a);
            mine.Step(corpus.Test[i], b);
            Assert.Equal(a, b);
        }
    }

    [Theory]
    [InlineData(RecurrentCell.Lstm, 2, 2, 3)]
    [InlineData(RecurrentCell.Gru, 3, 1, 0)]
    [InlineData(RecurrentCell.Lstm, 1, 3, 1)]
    public void Folded_thresholds_give_the_graphs_level_for_every_integer(RecurrentCell cell, int k, int g, int s)
    {
        var bits = new SequenceBits(2, k, g, s == 0 ? 1 : s);
        var layer = new RecurrentLayer(cell, 5, 3, bits, 1, 0, new Random(9));
        var rng = new Random(4);
        var sc = SequenceParameters.Data(layer.Scale);
        var bi = SequenceParameters.Data(layer.Bias);
        for (int i = 0; i < sc.Length; i++)
        {
            sc[i] = (float)((rng.NextDouble() - 0.4) * 0.2);
            bi[i] = (float)((rng.NextDouble() - 0.5) * 3);
        }
        sc[1] = 0f;
        var (t, flip, state) = SequenceFold.Fold(layer, bits);
        int L = (1 << k) - 1, G = (1 << g) - 1, S = (1 << bits.Cell) - 1;
        long bound = 8L * 3 * L;
        int at = 0;
        for (int ch = 0; ch < layer.F; ch++)
        {
            bool candidate = ch / 3 == 2;
            int n = candidate ? L : G;
            bool f = (flip[ch >> 5] >> (ch & 31) & 1) != 0;
            long range = candidate && cell == RecurrentCell.Gru ? bound * G : bound;
            for (long acc = -range; acc <= range; acc++)
            {
                int want = candidate ? SequenceLevels.Candidate(acc, sc[ch], bi[ch], k) : SequenceLevels.Gate(acc, sc[ch], bi[ch], g);
                Assert.Equal(want, ThresholdFold.Apply(acc, t.AsSpan(at, n), f));
            }
            at += n;
        }
        Assert.Equal(t.Length, at);
        int hiddenAt = 0;
        if (cell == RecurrentCell.Lstm)
        {
            for (long p = -G * (S + L); p <= G * (S + L); p++) Assert.Equal(SequenceLevels.Cell(p, g, bits.Cell), ThresholdFold.Apply(p, state.AsSpan(0, S), false));
            for (long c = -S; c <= S; c += 2) Assert.Equal(SequenceLevels.TanhOfCell(c, k), ThresholdFold.Apply(c, state.AsSpan(S, L), false));
            hiddenAt = S + L;
        }
        for (long p = -G * L; p <= G * L; p++) Assert.Equal(SequenceLevels.Hidden(p, g, k), ThresholdFold.Apply(p, state.AsSpan(hiddenAt, L), false));
    }

    [Fact]
    public void The_float_baseline_is_not_exportable()
    {
        var loop = new LmTrainingLoop(SmallOptions("lstm", 32) with { Epochs = 1 }, Synthetic(trainTokens: 400));
        var e = Assert.Throws<InvalidOperationException>(() => SequenceExporter.Export(loop.Model, Synthetic().Vocabulary));
        Assert.Contains("not exportable", e.Message);
    }

    [Fact]
    public void Long_tokens_become_labels_of_at_most_63_bytes_cut_at_a_character()
    {
        Assert.Equal("abc", SequenceExporter.Label("abc"));
        string longWord = new string('x', 62) + "é" + "yy";
        Assert.Equal(new string('x', 62), SequenceExporter.Label(longWord));
        Assert.Equal(63, System.Text.Encoding.UTF8.GetByteCount(SequenceExporter.Label(new string('a', 70))));
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    public void A_language_model_cancelled_mid_epoch_resumes_bit_for_bit(string arch)
    {
        var corpus = Synthetic(trainTokens: 3000);
        var options = SmallOptions(arch, 2) with { Epochs = 2, Layers = 2, Dropout = 0.2f };
        string dir = Path.Combine(Path.GetTempPath(), "qnn-lm-resume-" + Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(dir);
        try
        {
            var whole = new LmTrainingLoop(options, corpus);
            var wholeOutcome = whole.Run();
            string ckpt = Path.Combine(dir, "lm.ckpt");
            using var cts = new CancellationTokenSource();
            var first = new LmTrainingLoop(options, corpus) { CheckpointPath = ckpt };
            var stopper = new Stopper(p => { if (p.Epoch == 1 && p.Batch == 7) cts.Cancel(); });
            Assert.Throws<OperationCanceledException>(() => first.Run(stopper, cts.Token));
            var resumed = new LmTrainingLoop(options, corpus) { CheckpointPath = ckpt };
            var outcome = resumed.Run(resume: true);
            foreach (var (a, b) in whole.Model.Parameters.Zip(resumed.Model.Parameters))
                Assert.Equal(SequenceParameters.Data(a), SequenceParameters.Data(b));
            Assert.Equal(wholeOutcome.History.Select(h => (h.TrainLoss, h.ValLoss)), outcome.History.Select(h => (h.TrainLoss, h.ValLoss)));
            // Other options are refused by name of the checkpoint.
            var other = new LmTrainingLoop(options with { Hidden = 20 }, corpus) { CheckpointPath = ckpt };
            Assert.Throws<InvalidDataException>(() => other.Run(resume: true));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private sealed class Stopper(Action<TrainProgress> report) : IProgress<TrainProgress>
    {
        public void Report(TrainProgress value) => report(value);
    }
}
