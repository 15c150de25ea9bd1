using System.Diagnostics;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Qnn.Datasets;
using Qnn.Format;
using Qnn.Gpu;
using Qnn.Runtime.Edge;
using Qnn.Runtime.Edge.Fast;
using Qnn.Runtime.Gpu;

namespace Qnn.Verification;

/// <summary>A runtime of sequence models (SPEC 1.10): one token stream stepped with its state carried, every step's scores.</summary>
public abstract class SequenceRuntime : IDisposable
{
    public abstract string Name { get; }

    /// <summary>Starts a new sequence, then steps every token of <paramref name="tokens"/>; scores are tokens.Length · classes ints.</summary>
    public abstract void Run(ReadOnlySpan<int> tokens, int[] scores, int classes);

    public virtual void Dispose() { }

    /// <summary>The runtimes named by the user for a sequence model: portable, fast, gpu (onnx is refused with the reason).</summary>
    public static List<SequenceRuntime> Open(QnnModel m, IEnumerable<string> names, string accelerator, Action<string>? warn)
    {
        var list = new List<SequenceRuntime>();
        try
        {
            foreach (string name in names)
                switch (name.ToLowerInvariant())
                {
                    case "portable": list.Add(new PortableSequence(m)); break;
                    case "fast": list.Add(new FastSequence(m)); break;
                    case "gpu": list.Add(new GpuSequence(m, accelerator, warn)); break;
                    case "onnx": throw new VerificationException("--runtimes onnx: sequence models (SPEC 1.10) are not exported to ONNX yet");
                    default: throw new VerificationException($"unknown runtime \"{name}\": use portable, fast or gpu");
                }
        }
        catch
        {
            foreach (var r in list) r.Dispose();
            throw;
        }
        return list;
    }
}

/// <summary>The reference: <see cref="SequenceInterpreter"/>.</summary>
public sealed class PortableSequence(QnnModel m) : SequenceRuntime
{
    private readonly SequenceInterpreter _interpreter = new(m);
    private readonly int[] _scores = new int[m.ClassCount];
    public override string Name => "portable";

    public override void Run(ReadOnlySpan<int> tokens, int[] scores, int classes)
    {
        _interpreter.Reset();
        for (int t = 0; t < tokens.Length; t++)
        {
            _interpreter.Step(tokens[t], _scores);
            Array.Copy(_scores, 0, scores, t * classes, classes);
        }
    }
}

/// <summary>The fast path, one sequence.</summary>
public sealed class FastSequence(QnnModel m) : SequenceRuntime
{
    private readonly FastSequenceInterpreter _interpreter = new(m);
    public override string Name => "fast";

    public override void Run(ReadOnlySpan<int> tokens, int[] scores, int classes)
    {
        _interpreter.Reset();
        for (int t = 0; t < tokens.Length; t++) _interpreter.Step(tokens.Slice(t, 1), scores.AsSpan(t * classes, classes));
    }
}

/// <summary>The GPU runtime on the chosen accelerator, one sequence.</summary>
public sealed class GpuSequence : SequenceRuntime
{
    private readonly GpuDevice _device;
    private readonly GpuSequenceInterpreter _interpreter;

    public GpuSequence(QnnModel m, string accelerator, Action<string>? warn)
    {
        try { _device = GpuDevice.Open(GpuDevice.ParseKind(accelerator)); }
        catch (NotSupportedException e) { throw new VerificationException(e.Message); }
        if (_device.Notice is { } notice) warn?.Invoke(notice);
        _interpreter = new GpuSequenceInterpreter(_device, m);
        Name = "gpu (" + _device.Name + ")";
    }

    public override string Name { get; }

    public override void Run(ReadOnlySpan<int> tokens, int[] scores, int classes)
    {
        _interpreter.Reset();
        for (int t = 0; t < tokens.Length; t++) _interpreter.Step(tokens.Slice(t, 1), scores.AsSpan(t * classes, classes));
    }

    public override void Dispose()
    {
        _interpreter.Dispose();
        _device.Dispose();
    }
}

/// <summary>
/// Compares sequence runtimes with the first, exactly, on one token stream (a corpus's test split, state carried
/// through it): every step's scores. The digest is XxHash64 of all scores in order as little-endian 32-bit words;
/// accuracy is the share of steps whose predicted token (highest score, lowest index on ties) is the next token.
/// </summary>
public static class SequenceVerifier
{
    public static VerifyReport Verify(QnnModel m, string modelName, string datasetName, int[] tokens, IReadOnlyList<SequenceRuntime> runtimes)
    {
        int classes = m.ClassCount, n = tokens.Length;
        int[]? reference = null;
        var results = new List<RuntimeResult>();
        foreach (var runtime in runtimes)
        {
            var scores = new int[(long)n * classes <= int.MaxValue ? n * classes : throw new VerificationException($"{n} tokens × {classes} classes of scores do not fit in memory: use --limit")];
            var clock = Stopwatch.StartNew();
            runtime.Run(tokens, scores, classes);
            double seconds = clock.Elapsed.TotalSeconds;
            var digest = new XxHash64();
            digest.Append(MemoryMarshal.AsBytes(scores.AsSpan()));
            int correct = 0;
            for (int t = 0; t + 1 < n; t++)
                if (Prediction.ArgMax(scores.AsSpan(t * classes, classes)) == tokens[t + 1]) correct++;
            int mismatches = 0;
            var listed = new List<Mismatch>();
            if (reference is null) reference = scores;
            else
                for (int t = 0; t < n; t++)
                {
                    var a = reference.AsSpan(t * classes, classes);
                    var b = scores.AsSpan(t * classes, classes);
                    int k = a.CommonPrefixLength(b);
                    if (k == classes) continue;
                    mismatches++;
                    if (listed.Count < Verifier.ListedMismatches) listed.Add(new Mismatch(t, m.Layers.Length - 1, $"step {t}, score of token {k}: {a[k]} vs {b[k]}"));
                }
            int predicted = Math.Max(0, n - 1);
            results.Add(new RuntimeResult(runtime.Name, n, mismatches, listed, correct, predicted == 0 ? 0 : Math.Round((double)correct / predicted, 4),
                $"{digest.GetCurrentHashAsUInt64():x16}", Math.Round(seconds, 3), n == 0 ? 0 : Math.Round(seconds * 1e6 / n, 1)));
        }
        return new VerifyReport(modelName, $"{m.ModelId:x16}", datasetName, n, false, runtimes[0].Name, results, results.All(r => r.Mismatches == 0));
    }

    /// <summary>
    /// The test split's token stream of a text corpus, checked against the model: its vocabulary is the model's classes
    /// (and, where the model has labels, the same tokens in the same order, a word past 63 bytes cut). <paramref name="limit"/> &gt; 0 keeps the first tokens.
    /// </summary>
    public static int[] TestTokens(TextCorpus corpus, QnnModel m, string modelPath, int limit)
    {
        if (corpus.Vocabulary.Count != m.ClassCount)
            throw new VerificationException($"{modelPath}: the model has {m.ClassCount} classes (tokens), {corpus.Name} a vocabulary of {corpus.Vocabulary.Count}");
        if (m.Labels is { } labels)
            for (int i = 0; i < labels.Length; i++)
                // A label holds at most 63 UTF-8 bytes (SPEC 2.5): a longer word is written cut.
                if (labels[i] != corpus.Vocabulary[i]
                    && !(System.Text.Encoding.UTF8.GetByteCount(corpus.Vocabulary[i]) > FormatConstants.MaxLabelBytes && corpus.Vocabulary[i].StartsWith(labels[i], StringComparison.Ordinal)))
                    throw new VerificationException($"{modelPath}: token {i} is \"{labels[i]}\" in the model, \"{corpus.Vocabulary[i]}\" in {corpus.Name}");
        if (m.Layers[0].InC != m.ClassCount)
            throw new VerificationException($"{modelPath}: the embedding reads {m.Layers[0].InC} tokens, the model scores {m.ClassCount}");
        int[] test = corpus.Test;
        return limit > 0 && limit < test.Length ? test[..limit] : test;
    }
}
