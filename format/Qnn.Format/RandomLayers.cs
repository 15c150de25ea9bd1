namespace Qnn.Format;

/// <summary>
/// Random weights and thresholds for a layer record of any shape and bit width: valid by the validator's rules
/// (padding bits of a weight row zero, thresholds ascending, or descending where the channel is flipped, scores'
/// shifts within the accumulator bound), with thresholds spread where accumulators fall so that every level occurs.
/// The property tests' random models and the benchmarks' networks of the papers' shapes use it: timing depends on a
/// network's shape, not on what it learned.
/// </summary>
public static class RandomLayers
{
    /// <summary>Random weights (padding bits 0), thresholds around the accumulator's range, flips, offsets and shifts.</summary>
    public static void Fill(Random rng, LayerSpec l)
    {
        if (l.Kind == LayerKind.MaxPool2D) return;
        if (l.IsSequenceLayer)
        {
            FillSequence(rng, l);
            return;
        }
        var weights = new uint[l.WeightWords];
        int cw = l.InChannelWords, rem = l.InC & 31;
        for (int i = 0; i < weights.Length; i++)
        {
            uint x = (uint)rng.NextInt64(0, 1L << 32);
            if (rem != 0 && i % cw == cw - 1) x &= (1u << rem) - 1u;
            weights[i] = x;
        }
        l.Weights = weights;
        long bound = AccumulatorBound(l);
        // Spread thresholds where accumulators fall: their spread is about sqrt(n) times the level products.
        int spread = (int)Math.Max(2, Math.Min(bound, 4 * Math.Sqrt(l.KernelH * l.KernelW * l.InC) * ((1 << l.WeightBits) - 1) * ((1 << l.InputBits) - 1) + 2));
        if (l.Output == OutputKind.Thresholds)
        {
            int levels = l.Levels;
            var t = new int[l.OutC * levels];
            var flip = new uint[(l.OutC + 31) / 32];
            for (int ch = 0; ch < l.OutC; ch++)
            {
                bool f = rng.Next(4) == 0;
                if (f) flip[ch >> 5] |= 1u << (ch & 31);
                var row = Enumerable.Range(0, levels).Select(_ => rng.Next(-spread, spread + 1)).OrderBy(x => x).ToArray();
                if (rng.Next(20) == 0) Array.Fill(row, rng.Next(2) == 0 ? int.MinValue : int.MaxValue);
                if (f) Array.Reverse(row);
                row.CopyTo(t, ch * levels);
            }
            l.Thresholds = t;
            l.Flip = flip;
        }
        else
        {
            l.Shifts = Enumerable.Range(0, l.OutC).Select(_ => rng.Next(0, 3)).ToArray();
            while (l.Shifts.Any(s => (bound << s) >= FormatConstants.MaxAccumulatorBound))
                l.Shifts = l.Shifts.Select(s => Math.Max(0, s - 1)).ToArray();
            l.Offsets = Enumerable.Range(0, l.OutC).Select(_ => rng.Next(-spread, spread + 1)).ToArray();
        }
    }

    /// <summary>LayerSpec.AccumulatorBound (SPEC 4) for a weighted layer, 0 for pooling, long.MaxValue past 31 bits.</summary>
    public static long AccumulatorBound(LayerSpec l) =>
        l.Kind == LayerKind.MaxPool2D ? 0 : l.AccumulatorBound is >= 0 and var bound ? bound : long.MaxValue;

    /// <summary>
    /// A random valid sequence model (SPEC 1.10): an Embedding of <paramref name="vocabulary"/> tokens and
    /// <paramref name="embed"/> channels, the recurrent layers of <paramref name="recurrent"/> (LSTM or GRU) of
    /// <paramref name="hidden"/> units each, then a Dense scores layer over the vocabulary (its labels "w0", "w1", …).
    /// </summary>
    public static QnnModel SequenceModel(Random rng, int vocabulary, int embed, LayerKind[] recurrent, int hidden,
        int weightBits, int bits, int gateBits, int cellBits)
    {
        var layers = new List<LayerSpec> { LayerFactory.Embedding(vocabulary, embed, bits) };
        int inputs = embed;
        foreach (LayerKind kind in recurrent)
        {
            layers.Add(kind == LayerKind.Lstm
                ? LayerFactory.Lstm(inputs, hidden, weightBits, bits, gateBits, cellBits)
                : kind == LayerKind.Gru ? LayerFactory.Gru(inputs, hidden, weightBits, bits, gateBits)
                : throw new ArgumentException($"{kind} is not a recurrent layer kind", nameof(recurrent)));
            inputs = hidden;
        }
        layers.Add(LayerFactory.Dense(1, 1, inputs, vocabulary, weightBits, bits, true, OutputKind.Scores, 0));
        var model = new QnnModel
        {
            InputHeight = 1, InputWidth = 1, InputChannels = vocabulary, InputBits = 1, ClassCount = vocabulary,
            Layers = layers.ToArray(), Labels = Enumerable.Range(0, vocabulary).Select(i => "w" + i).ToArray(),
        };
        foreach (var l in model.Layers) Fill(rng, l);
        return model;
    }

    /// <summary>
    /// An Embedding's random rows; an LSTM's or GRU's random W and U, gate thresholds where z (or the GRU's candidate
    /// N) falls, flips, and cell, tanh and hidden thresholds spread over the range of what they compare.
    /// </summary>
    private static void FillSequence(Random rng, LayerSpec l)
    {
        var weights = new uint[l.WeightWords];
        int rowWords = l.Kind == LayerKind.Embedding ? l.OutChannelWords : l.InChannelWords;
        int channels = l.Kind == LayerKind.Embedding ? l.OutC : l.InC;
        int inputWords = l.Kind == LayerKind.Embedding ? weights.Length : l.InputWeightWords;
        for (int i = 0; i < weights.Length; i++)
        {
            if (i == inputWords) { rowWords = l.OutChannelWords; channels = l.OutC; }
            int inRow = (i < inputWords ? i : i - inputWords) % rowWords;
            uint x = (uint)rng.NextInt64(0, 1L << 32);
            int rem = channels & 31;
            if (rem != 0 && inRow == rowWords - 1) x &= (1u << rem) - 1u;
            weights[i] = x;
        }
        l.Weights = weights;
        if (l.Kind == LayerKind.Embedding) return;
        int f = l.GateChannels, h = l.OutC, gLevels = l.GateLevels, levels = l.Levels;
        long unit = ((1L << l.WeightBits) - 1) * ((1L << l.InputBits) - 1);
        int spread = (int)Math.Max(2, Math.Min(l.AccumulatorBound, 4 * Math.Sqrt(l.InC + h) * unit + 2));
        var t = new int[l.GateThresholdCount];
        var flip = new uint[l.GateFlipWords];
        for (int c = 0; c < f; c++)
        {
            int n = l.GateThresholdsOf(c);
            // The GRU's candidate compares N ≈ G · acc; the other gates compare acc_x + acc_h.
            int range = l.Kind == LayerKind.Gru && c >= 2 * h ? spread * gLevels : spread;
            bool flipped = rng.Next(4) == 0;
            if (flipped) flip[c >> 5] |= 1u << (c & 31);
            var row = Enumerable.Range(0, n).Select(_ => rng.Next(-range, range + 1)).OrderBy(x => x).ToArray();
            if (rng.Next(20) == 0) Array.Fill(row, rng.Next(2) == 0 ? int.MinValue : int.MaxValue);
            if (flipped) Array.Reverse(row);
            row.CopyTo(t, l.GateThresholdStart(c));
        }
        l.Thresholds = t;
        l.Flip = flip;
        // P_c ∈ [−G(S + L), G(S + L)], c ∈ [−S, S], P_h ∈ [−G·L, G·L].
        int cells = l.CellLevels;
        int product = gLevels * levels;
        int[] Ascending(int n, int range) => Enumerable.Range(0, n).Select(_ => rng.Next(-range, range + 1)).OrderBy(x => x).ToArray();
        l.StateThresholds = l.Kind == LayerKind.Lstm
            ? [.. Ascending(cells, gLevels * (cells + levels) + 1), .. Ascending(levels, cells + 1), .. Ascending(levels, product + 1)]
            : Ascending(levels, product + 1);
    }
}
