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
            if (AccumulatorBound(l) >= FormatConstants.MaxAccumulatorBound) break;
            layers.Add(l);
            h = l.OutH; w = l.OutW; c = l.OutC; bits = l.OutputBits; signed = true;
        }
        var last = LayerFactory.Dense(h, w, c, model.ClassCount, rng.Next(1, limits.MaxBits + 1), bits, signed, OutputKind.Scores, 0);
        layers.Add(last);
        model.Layers = layers.ToArray();
        foreach (var l in model.Layers) Fill(rng, l);
        if (rng.Next(2) == 0) model.Labels = Enumerable.Range(0, model.ClassCount).Select(i => "class " + i).ToArray();
        if (rng.Next(2) == 0) { model.MetadataKeys = ["dataset", "seed"]; model.MetadataValues = ["random", rng.Next().ToString()]; }
        return model;
    }

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

    /// <summary>A random input image of the model's shape, 8-bit pixels (the runtime shifts to the model's bits).</summary>
    public static byte[] Image(Random rng, QnnModel model)
    {
        var image = new byte[model.InputHeight * model.InputWidth * model.InputChannels];
        rng.NextBytes(image);
        return image;
    }
}
