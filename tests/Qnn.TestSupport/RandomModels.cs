using Qnn.Format;

namespace Qnn.TestSupport;

/// <summary>
/// Random valid models of every layer kind and bit width (format/SPEC.md), with sizes that are not multiples of
/// 32 or 64, odd image sizes and paddings: the inputs of the property tests that compare every runtime with the
/// portable interpreter.
/// </summary>
public static class RandomModels
{
    /// <summary>Options that bound a random model, so that slow paths (ILGPU's CPU accelerator) get small ones.</summary>
    /// <remarks>Input channels are drawn from 1 to <see cref="MaxInputChannels"/>: grey, two, RGB and RGBA-like inputs (issue 14).</remarks>
    public sealed record Limits(int MaxSide = 12, int MaxChannels = 70, int MaxDense = 150, int MaxLayers = 5, int MaxBits = 3, int MaxClasses = 12,
        int MaxInputChannels = 4);

    public static QnnModel Create(Random rng, Limits? limits = null)
    {
        limits ??= new Limits();
        int h = rng.Next(1, limits.MaxSide + 1), w = rng.Next(1, limits.MaxSide + 1), c = rng.Next(1, limits.MaxInputChannels + 1);
        int inputBits = rng.Next(1, 9);
        var model = new QnnModel
        {
            InputHeight = h, InputWidth = w, InputChannels = c, InputBits = inputBits,
            ClassCount = rng.Next(2, limits.MaxClasses + 1), PreprocessFlags = rng.Next(4),
        };
        var layers = new List<LayerSpec>();
        int bits = inputBits;
        bool signed = false;
        int hidden = rng.Next(0, limits.MaxLayers);
        for (int i = 0; i < hidden; i++)
        {
            int outBits = rng.Next(1, limits.MaxBits + 1);
            int m = rng.Next(1, limits.MaxBits + 1);
            LayerSpec l;
            int choice = rng.Next(3);
            if (choice == 2 && signed && h >= 2 && w >= 2)
            {
                int pool = rng.Next(2, Math.Min(3, Math.Min(h, w)) + 1);
                l = LayerFactory.MaxPool2D(h, w, c, bits, pool, rng.Next(1, pool + 1));
            }
            else if (choice >= 1 && h * w > 1)
            {
                int k = rng.Next(1, Math.Min(5, Math.Min(h, w) + 1) + 0);
                k = Math.Max(1, Math.Min(k, Math.Min(h, w)));
                int pad = rng.Next(0, k);
                int stride = rng.Next(1, 3);
                l = LayerFactory.Conv2D(h, w, c, rng.Next(1, limits.MaxChannels + 1), k, k, stride, pad, m, bits, signed, OutputKind.Thresholds, outBits);
                if (l.OutH >= 2 && l.OutW >= 2 && rng.Next(2) == 0)
                    l = LayerFactory.Conv2D(h, w, c, l.OutC, k, k, stride, pad, m, bits, signed, OutputKind.Thresholds, outBits, 2, rng.Next(1, 3));
                if (rng.Next(3) == 0)
                {   // asymmetric padding and strides
                    l.PadBottom = rng.Next(0, k);
                    l.PadRight = rng.Next(0, k);
                    l.StrideW = rng.Next(1, 3);
                    l.PoolH = l.PoolW = l.PoolStrideH = l.PoolStrideW = 0;
                    l.OutH = l.ConvOutH;
                    l.OutW = l.ConvOutW;
                }
            }
            else
            {
                l = LayerFactory.Dense(h, w, c, rng.Next(1, limits.MaxDense + 1), m, bits, signed, OutputKind.Thresholds, outBits);
            }
            if (RandomLayers.AccumulatorBound(l) >= FormatConstants.MaxAccumulatorBound) break;
            layers.Add(l);
            h = l.OutH; w = l.OutW; c = l.OutC; bits = l.OutputBits; signed = true;
        }
        var last = LayerFactory.Dense(h, w, c, model.ClassCount, rng.Next(1, limits.MaxBits + 1), bits, signed, OutputKind.Scores, 0);
        layers.Add(last);
        model.Layers = layers.ToArray();
        foreach (var l in model.Layers) RandomLayers.Fill(rng, l);
        if (rng.Next(2) == 0) model.Labels = Enumerable.Range(0, model.ClassCount).Select(i => "class " + i).ToArray();
        if (rng.Next(2) == 0) { model.MetadataKeys = ["dataset", "seed"]; model.MetadataValues = ["random", rng.Next().ToString()]; }
        return model;
    }

    /// <summary>A random input image of the model's shape, 8-bit pixels (the runtime shifts to the model's bits).</summary>
    public static byte[] Image(Random rng, QnnModel model)
    {
        var image = new byte[model.InputHeight * model.InputWidth * model.InputChannels];
        rng.NextBytes(image);
        return image;
    }

    /// <summary>
    /// A random sequence model (SPEC 1.10): vocabulary 2–<paramref name="maxVocabulary"/>, embedding and hidden sizes
    /// 1–<paramref name="maxWidth"/> (not multiples of 32), 1–2 recurrent layers of either kind, m, k, g and s of
    /// 1–<paramref name="maxBits"/> bits, sometimes a hidden Dense layer before the scores.
    /// </summary>
    public static QnnModel CreateSequence(Random rng, int maxVocabulary = 60, int maxWidth = 70, int maxBits = 4)
    {
        var kinds = Enumerable.Range(0, rng.Next(1, 3)).Select(_ => rng.Next(2) == 0 ? LayerKind.Lstm : LayerKind.Gru).ToArray();
        int vocabulary = rng.Next(2, maxVocabulary + 1), bits = rng.Next(1, maxBits + 1);
        var model = RandomLayers.SequenceModel(rng, vocabulary, rng.Next(1, maxWidth + 1), kinds, rng.Next(1, maxWidth + 1),
            rng.Next(1, maxBits + 1), bits, rng.Next(1, maxBits + 1), rng.Next(1, maxBits + 1));
        if (rng.Next(3) == 0)
        {
            var last = model.Layers[^1];
            var hidden = LayerFactory.Dense(1, 1, last.InC, rng.Next(1, maxWidth + 1), rng.Next(1, maxBits + 1), bits, true, OutputKind.Thresholds, rng.Next(1, maxBits + 1));
            var scores = LayerFactory.Dense(1, 1, hidden.OutC, vocabulary, rng.Next(1, maxBits + 1), hidden.OutputBits, true, OutputKind.Scores, 0);
            RandomLayers.Fill(rng, hidden);
            RandomLayers.Fill(rng, scores);
            model.Layers = [.. model.Layers[..^1], hidden, scores];
        }
        return model;
    }

    /// <summary>
    /// Random token streams for <paramref name="sequences"/> sequences stepped together: per step, each sequence's
    /// token (−1: reset that sequence before its next token, about one step in eight).
    /// </summary>
    public static int[][] TokenSteps(Random rng, QnnModel model, int sequences, int steps)
    {
        int vocabulary = model.Layers[0].InC;
        return Enumerable.Range(0, steps)
            .Select(_ => Enumerable.Range(0, sequences).Select(_ => rng.Next(8) == 0 ? -1 - rng.Next(vocabulary) : rng.Next(vocabulary)).ToArray())
            .ToArray();
    }
}
