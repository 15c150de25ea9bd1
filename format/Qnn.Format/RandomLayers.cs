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
        // Log weights (SPEC 1.3): the exponent planes are random too, so every e in 0 … 2^(m−1) − 1 occurs.
        int spread = (int)Math.Max(2, Math.Min(bound, 4 * Math.Sqrt(l.KernelH * l.KernelW * l.InC) * l.LargestWeight * ((1 << l.InputBits) - 1) + 2));
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

}
