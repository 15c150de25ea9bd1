using Qnn.Format;

namespace Qnn.TestSupport;

/// <summary>Small convolutional models with random weights, written by tests that need every layer kind in one file.</summary>
public static class ConvNets
{
    /// <summary>
    /// A BinaryNet-like MNIST model: 8-bit input through bit-planes into a conv with a fused pool, a 1-bit conv,
    /// a max-pool, a 1-bit dense layer and 2-bit scores. Set QNN_TEST_MODEL_OUT=PATH to keep it for `./qnn inspect PATH`.
    /// </summary>
    public static QnnModel MnistLike()
    {
        var c1 = LayerFactory.Conv2D(28, 28, 1, 16, 3, 3, 1, 1, 1, 8, false, OutputKind.Thresholds, 1, pool: 2);
        var c2 = LayerFactory.Conv2D(14, 14, 16, 32, 3, 3, 1, 1, 1, 1, true, OutputKind.Thresholds, 1);
        var p2 = LayerFactory.MaxPool2D(14, 14, 32, 1, 2);
        var d1 = LayerFactory.Dense(7, 7, 32, 100, 1, 1, true, OutputKind.Thresholds, 1);
        var d2 = LayerFactory.Dense(1, 1, 100, 10, 2, 1, true, OutputKind.Scores, 0);
        var model = new QnnModel
        {
            InputHeight = 28, InputWidth = 28, InputChannels = 1, InputBits = 8, ClassCount = 10, PreprocessFlags = Preprocess.Invert | Preprocess.Center,
            Layers = [c1, c2, p2, d1, d2], Labels = Enumerable.Range(0, 10).Select(i => i.ToString()).ToArray(),
            MetadataKeys = ["dataset", "test_accuracy"], MetadataValues = ["mnist", "not trained (random weights)"],
        };
        var rng = new Random(7);
        foreach (var l in model.Layers) RandomLayers.Fill(rng, l);
        return model;
    }
}
