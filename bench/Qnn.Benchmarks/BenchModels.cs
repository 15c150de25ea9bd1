using Qnn.Format;

namespace Qnn.Benchmarks;

/// <summary>Networks of the papers' shapes with random weights and thresholds, written and read back as a file would be.</summary>
public static class BenchModels
{
    /// <summary>
    /// The MNIST MLP of `qnn train --arch mlp`: 784 → width → width → width → 10, 1-bit weights and activations,
    /// 8-bit input through bit-planes (width 1024 by default; the paper's is 4096). Like `qnn train`'s export, the
    /// image is read as one 1 × 1 × 784 vector, so that 32 pixels share a weight word.
    /// </summary>
    public static QnnModel MnistMlp(int width = 1024, int seed = 1)
    {
        var rng = new Random(seed);
        var layers = new List<LayerSpec> { LayerFactory.Dense(1, 1, 784, width, 1, 8, false, OutputKind.Thresholds, 1) };
        for (int i = 0; i < 2; i++) layers.Add(LayerFactory.Dense(1, 1, width, width, 1, 1, true, OutputKind.Thresholds, 1));
        layers.Add(LayerFactory.Dense(1, 1, width, 10, 1, 1, true, OutputKind.Scores, 0));
        foreach (var l in layers) RandomLayers.Fill(rng, l);
        var model = new QnnModel
        {
            InputHeight = 1, InputWidth = 1, InputChannels = 784, InputBits = 8, ClassCount = 10, Layers = [.. layers],
            MetadataKeys = ["image_shape"], MetadataValues = ["28x28x1"],
        };
        return ModelFile.Parse(ModelWriter.Write(model), $"mlp-{width}");
    }

    /// <summary>Seeded random 8-bit images of the model's shape, one after another.</summary>
    public static byte[] Images(QnnModel model, int count, int seed = 2)
    {
        var images = new byte[count * model.InputHeight * model.InputWidth * model.InputChannels];
        new Random(seed).NextBytes(images);
        return images;
    }
}
