using Qnn.Datasets;
using Qnn.Format;

namespace Qnn.TestSupport;

/// <summary>A random model of two or more layers with random images and labels for it: what verification tests compare.</summary>
public static class RandomSamples
{
    /// <param name="channels">The input channels the model must read (1–4), or 0 for any.</param>
    public static QnnModel Model(int seed, out Dataset data, int samples = 12, bool oneChannel = false, int channels = 0)
    {
        var rng = new Random(seed);
        QnnModel model;
        do model = RandomModels.Create(rng, new RandomModels.Limits(MaxSide: 7, MaxChannels: 40, MaxDense: 60, MaxLayers: 3, MaxBits: 2, MaxClasses: 6));
        while (model.Layers.Length < 2 || (oneChannel && model.InputChannels != 1) || (channels > 0 && model.InputChannels != channels));
        var pixels = new byte[samples * model.InputHeight * model.InputWidth * model.InputChannels];
        rng.NextBytes(pixels);
        var labels = Enumerable.Range(0, samples).Select(_ => (byte)rng.Next(model.ClassCount)).ToArray();
        data = new Dataset
        {
            Name = "random", Height = model.InputHeight, Width = model.InputWidth, Channels = model.InputChannels,
            Pixels = pixels, Labels = labels, ClassCount = model.ClassCount,
        };
        return model;
    }
}
