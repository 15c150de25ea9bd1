using System.Diagnostics;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Qnn.Datasets;
using Qnn.Format;

namespace Qnn.Verification;

public sealed record Mismatch(int Sample, int Layer, string Where);

public sealed record RuntimeResult(string Runtime, int Samples, int Mismatches, IReadOnlyList<Mismatch> FirstMismatches,
    int Correct, double Accuracy, string Digest, double Seconds, double MicrosecondsPerSample);

public sealed record VerifyReport(string Model, string ModelId, string Dataset, int Samples, bool Layers, string Reference,
    IReadOnlyList<RuntimeResult> Runtimes, bool Match);

/// <summary>A runtime, a model or a data set that cannot be verified as asked; the message says why.</summary>
public sealed class VerificationException(string message) : Exception(message);

/// <summary>Compares every runtime with the first (the reference), exactly, sample by sample.</summary>
public static class Verifier
{
    /// <summary>Mismatches listed per runtime; the count covers them all.</summary>
    public const int ListedMismatches = 5;
    /// <summary>Samples per round: each runtime runs a round, then the outputs are compared and dropped.</summary>
    public const int RoundSamples = 1000;

    /// <summary>
    /// Runs every runtime on <paramref name="data"/> in rounds of <see cref="RoundSamples"/> and compares each one's
    /// outputs with the first runtime's. Digests are XxHash64 of the scores (then every layer's words, with
    /// <paramref name="layers"/>) of all samples in order, as little-endian 32-bit words.
    /// </summary>
    public static VerifyReport Verify(QnnModel m, string modelName, Dataset data, IReadOnlyList<IntegerRuntime> runtimes, bool layers, Action<int>? progress)
    {
        int classes = m.ClassCount, bytes = data.SampleBytes, count = data.Count;
        int n = runtimes.Count;
        var digests = runtimes.Select(_ => new XxHash64()).ToArray();
        var mismatches = new int[n];
        var listed = runtimes.Select(_ => new List<Mismatch>()).ToArray();
        var correct = new int[n];
        var seconds = new double[n];
        for (int start = 0; start < count; start += RoundSamples)
        {
            int c = Math.Min(RoundSamples, count - start);
            ReadOnlySpan<byte> images = data.Pixels.AsSpan(start * bytes, c * bytes);
            int[]? refScores = null;
            uint[][]? refLayers = null;
            for (int r = 0; r < n; r++)
            {
                var scores = new int[c * classes];
                uint[][]? outputs = layers ? Enumerable.Range(0, m.Layers.Length).Select(l => new uint[c * IntegerRuntime.LayerWords(m, l)]).ToArray() : null;
                var clock = Stopwatch.StartNew();
                runtimes[r].Run(images, c, scores, outputs);
                seconds[r] += clock.Elapsed.TotalSeconds;
                digests[r].Append(MemoryMarshal.AsBytes(scores.AsSpan()));
                if (outputs is not null) foreach (uint[] o in outputs) digests[r].Append(MemoryMarshal.AsBytes(o.AsSpan()));
                for (int s = 0; s < c; s++)
                    if (Prediction.ArgMax(scores.AsSpan(s * classes, classes)) == data.Labels[start + s]) correct[r]++;
                if (r == 0) { refScores = scores; refLayers = outputs; continue; }
                for (int s = 0; s < c; s++)
                {
                    Mismatch? found = FirstDifference(m, s, start + s, refScores!, scores, refLayers, outputs);
                    if (found is null) continue;
                    mismatches[r]++;
                    if (listed[r].Count < ListedMismatches) listed[r].Add(found);
                }
            }
            progress?.Invoke(start + c);
        }
        var results = Enumerable.Range(0, n).Select(r => new RuntimeResult(runtimes[r].Name, count, mismatches[r], listed[r], correct[r],
            count == 0 ? 0 : Math.Round((double)correct[r] / count, 4), $"{digests[r].GetCurrentHashAsUInt64():x16}",
            Math.Round(seconds[r], 3), count == 0 ? 0 : Math.Round(seconds[r] * 1e6 / count, 1))).ToArray();
        return new VerifyReport(modelName, $"{m.ModelId:x16}", data.Name, count, layers, runtimes[0].Name, results, mismatches.All(x => x == 0));
    }

    /// <summary>The first layer (with layer outputs) or the first score where sample <paramref name="s"/> of a round differs.</summary>
    private static Mismatch? FirstDifference(QnnModel m, int s, int sample, int[] refScores, int[] scores, uint[][]? refLayers, uint[][]? layers)
    {
        if (refLayers is not null && layers is not null)
            for (int l = 0; l < m.Layers.Length - 1; l++)
            {
                int words = IntegerRuntime.LayerWords(m, l);
                var a = refLayers[l].AsSpan(s * words, words);
                var b = layers[l].AsSpan(s * words, words);
                int w = a.CommonPrefixLength(b);
                if (w < words) return new Mismatch(sample, l, $"layer {l} word {w}: 0x{a[w]:X8} vs 0x{b[w]:X8}");
            }
        int classes = m.ClassCount;
        var x = refScores.AsSpan(s * classes, classes);
        var y = scores.AsSpan(s * classes, classes);
        int k = x.CommonPrefixLength(y);
        return k < classes ? new Mismatch(sample, m.Layers.Length - 1, $"score of class {k}: {x[k]} vs {y[k]}") : null;
    }

    /// <summary>
    /// Whether <paramref name="m"/> reads the images of <paramref name="data"/>: the same H × W × C, or a trainer's MLP
    /// that reads the image flattened to 1 × 1 × H·W·C (the same bytes in the same order).
    /// </summary>
    public static bool Reads(QnnModel m, Dataset data) =>
        (data.Height == m.InputHeight && data.Width == m.InputWidth && data.Channels == m.InputChannels)
        || (m.InputHeight == 1 && m.InputWidth == 1 && m.InputChannels == data.SampleBytes);

    /// <summary>
    /// The test split of a data set, checked against the model's input shape; an image folder is converted to the
    /// model's image shape (<see cref="ImageShape.Of"/>).
    /// </summary>
    public static Dataset TestSplit(string spec, QnnModel m, string modelPath, int limit, IProgress<FetchProgress>? progress = null)
    {
        var (h, w, c) = ImageShape.Of(m);
        Dataset test = DatasetLoader.Load(spec, new ImageRequest(h, w, c), progress).Test;   // an IOException naming the file
        if (!Reads(m, test))
            throw new VerificationException($"{modelPath}: the model reads {m.InputHeight}x{m.InputWidth}x{m.InputChannels} images, {spec} has {test.Height}x{test.Width}x{test.Channels}");
        return limit > 0 ? test.Take(limit) : test;
    }
}
