using Qnn.Format;

namespace Qnn.TestSupport;

/// <summary>
/// The multilayer perceptrons of the paper's MNIST experiments with random weights: the microcontroller one
/// (784-256-256-10, 1-bit weights and activations) and the big one (three hidden layers of 4096). The input is the
/// 784 pixels as one 1×1×784 vector (the same bytes as a 28×28 image, row by row): with channels innermost a
/// 28×28×1 input would pad every pixel of every filter to a 32-bit word, 32 times the weights.
/// </summary>
public static class Mlps
{
    public static QnnModel Create(int seed, params int[] hidden)
    {
        var rng = new Random(seed);
        var layers = new List<LayerSpec>();
        int width = 784, bits = 8;
        bool signed = false;
        foreach (int h in hidden)
        {
            layers.Add(LayerFactory.Dense(1, 1, width, h, 1, bits, signed, OutputKind.Thresholds, 1));
            width = h; bits = 1; signed = true;
        }
        layers.Add(LayerFactory.Dense(1, 1, width, 10, 1, bits, signed, OutputKind.Scores, 0));
        var model = new QnnModel
        {
            InputHeight = 1, InputWidth = 1, InputChannels = 784, InputBits = 8, ClassCount = 10,
            Layers = [.. layers],
            Labels = Enumerable.Range(0, 10).Select(i => i.ToString()).ToArray(),
            // As the trainer's export writes it for a flattened first layer (SPEC 2.5): image files are resized to 28×28.
            MetadataKeys = ["image_shape"],
            MetadataValues = ["28x28x1"],
        };
        foreach (var l in model.Layers) RandomLayers.Fill(rng, l);
        return model;
    }

    public static QnnModel Micro(int seed = 1) => Create(seed, 256, 256);

    public static QnnModel Big(int seed = 2) => Create(seed, 4096, 4096, 4096);
}
