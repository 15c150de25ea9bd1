using System.Text.Json;
using Qnn.Cli.Commands;
using Qnn.Datasets;
using Qnn.Format;
using Qnn.Runtime.Edge;
using Qnn.TestSupport;

namespace Qnn.Cli.Tests;

/// <summary>
/// The verbs on a sequence model (SPEC 1.10), as a user runs them: a random character-level LSTM/GRU over a small
/// text file's vocabulary; verify compares every step on portable, fast and GPU; run generates what the portable
/// interpreter predicts; inspect shows the recurrent layers; export refuses with the reason.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class SequenceVerbTests : IDisposable
{
    private readonly TempFolder _tmp = new();
    private readonly string _model, _dataset;
    private readonly QnnModel _m;

    public SequenceVerbTests()
    {
        string text = string.Concat(Enumerable.Range(0, 400).Select(i => "the quick brown fox jumps over the lazy dog. "[i % 45]));
        File.WriteAllText(_tmp.File("t.txt"), text);
        _dataset = "text:" + _tmp.File("t.txt");
        var corpus = TextCorpusLoader.Load(_dataset);
        _m = RandomLayers.SequenceModel(new Random(3), corpus.Vocabulary.Count, 20, [LayerKind.Lstm, LayerKind.Gru], 33, 2, 2, 2, 3);
        _m.Labels = [.. corpus.Vocabulary];
        _m.MetadataKeys = ["dataset"];
        _m.MetadataValues = [_dataset];
        _model = _tmp.File("lm.qnn");
        ModelWriter.WriteFile(_m, _model);
    }

    public void Dispose() => _tmp.Dispose();

    [Fact]
    public void Verify_compares_every_step_of_the_test_stream_on_every_runtime()
    {
        var r = QnnCommand.Run("verify", _model, "--dataset", _dataset, "--runtimes", "portable,fast,gpu", "--accelerator", "cpu", "--limit", "15", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        using var json = JsonDocument.Parse(r.Out);
        Assert.True(json.RootElement.GetProperty("match").GetBoolean());
        Assert.Equal(15, json.RootElement.GetProperty("samples").GetInt32());
        var digests = json.RootElement.GetProperty("runtimes").EnumerateArray().Select(x => x.GetProperty("digest").GetString()).ToArray();
        Assert.Equal(3, digests.Length);
        Assert.Single(digests.Distinct());
    }

    [Fact]
    public void Verify_refuses_a_corpus_whose_vocabulary_is_not_the_models()
    {
        File.WriteAllText(_tmp.File("other.txt"), "abc abc abc abc abc abc abc abc abc abc abc abc abc abc abc abc abc abc abc abc abc");
        var r = QnnCommand.Run("verify", _model, "--dataset", "text:" + _tmp.File("other.txt"), "--runtimes", "portable");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"qnn verify: {_model}: the model has {_m.ClassCount} classes (tokens)", r.Error.Trim());
    }

    [Fact]
    public void Run_generates_the_tokens_the_portable_interpreter_predicts()
    {
        var r = QnnCommand.Run("run", _model, "--prompt", "the ", "--tokens", "12", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        using var json = JsonDocument.Parse(r.Out);
        var tokens = json.RootElement.GetProperty("tokens").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        // Greedy by hand: step the prompt, then feed back the highest score (lowest index on ties).
        var s = new SequenceInterpreter(_m);
        var scores = new int[_m.ClassCount];
        int next = 0;
        foreach (char c in "the ") next = s.Step(Array.IndexOf(_m.Labels!, c.ToString()), scores);
        var expected = new List<int>();
        for (int i = 0; i < 12; i++) { expected.Add(next); next = s.Step(next, scores); }
        Assert.Equal(expected, tokens);
        Assert.Equal("the " + string.Concat(expected.Select(t => _m.Labels![t])), json.RootElement.GetProperty("text").GetString());
        var portable = QnnCommand.Run("run", _model, "--prompt", "the ", "--tokens", "12", "--runtime", "portable", "--json");
        using var again = JsonDocument.Parse(portable.Out);
        Assert.Equal(tokens, again.RootElement.GetProperty("tokens").EnumerateArray().Select(x => x.GetInt32()));
    }

    [Fact]
    public void Sampling_needs_a_score_scale_and_repeats_with_its_seed()
    {
        var r = QnnCommand.Run("run", _model, "--prompt", "the", "--sample");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"qnn run: --sample: {_model} has no positive score_scale metadata (SPEC 1.10) to turn scores into probabilities", r.Error.Trim());
        _m.MetadataKeys = ["dataset", "score_scale"];
        _m.MetadataValues = [_dataset, "0.0005"];
        ModelWriter.WriteFile(_m, _model);
        string Sampled(string seed) => QnnCommand.Run("run", _model, "--prompt", "the", "--tokens", "30", "--sample", "--seed", seed).Out;
        Assert.Equal(Sampled("4"), Sampled("4"));
        Assert.NotEqual(Sampled("4"), Sampled("5"));
    }

    [Fact]
    public void Inspect_shows_the_recurrent_layers_and_export_refuses()
    {
        var r = QnnCommand.Run("inspect", _model);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("LSTM g=2 s=3", r.Out);
        Assert.Contains("GRU g=2", r.Out);
        Assert.Contains($"MACs per token (step): {_m.Layers.Sum(l => l.Macs):N0}", r.Out);
        var e = QnnCommand.Run("export", _model, "--onnx", _tmp.File("lm.onnx"));
        Assert.Equal(1, e.ExitCode);
        Assert.Contains("sequence models (Embedding, LSTM, GRU; SPEC 1.10) are not exported to ONNX yet", e.Error);
    }
    /// <summary>
    /// A word-level model whose scores put &lt;unk&gt; first after every token: generation takes the best other token
    /// unless --allow-unk, and then it is exactly the interpreter's prediction (&lt;unk&gt; every time).
    /// </summary>
    [Fact]
    public void Generation_skips_unk_unless_allowed()
    {
        var m = RandomLayers.SequenceModel(new Random(5), 12, 8, [LayerKind.Gru], 9, 2, 2, 2, 0);
        m.Labels = ["<unk>", "<eos>", .. Enumerable.Range(2, 10).Select(i => "w" + i)];
        m.Layers[^1].Offsets![0] = 1 << 20;   // far above any accumulator of this layer
        m.MetadataKeys = ["score_scale"];
        m.MetadataValues = ["0.05"];
        var skipped = RunCommand.Generate(m, "m.qnn", "w2 w3", 10, "portable", null, 1.0);
        var allowed = RunCommand.Generate(m, "m.qnn", "w2 w3", 10, "portable", null, 1.0, allowUnk: true);
        Assert.All(allowed.Tokens, t => Assert.Equal(0, t));
        Assert.DoesNotContain(0, skipped.Tokens);
        var sampled = RunCommand.Generate(m, "m.qnn", "w2 w3", 30, "fast", new Random(1), 1.0);
        Assert.DoesNotContain(0, sampled.Tokens);
    }
}
