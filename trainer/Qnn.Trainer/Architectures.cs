using Qnn.Trainer.Layers;

namespace Qnn.Trainer;

/// <summary>Options an architecture is built from.</summary>
public sealed record ArchOptions(int WeightBits = 1, int ActBits = 1, int Width = 0, float InputDropout = -1f, float HiddenDropout = -1f,
    Quantization.ActivationQuantizer ActQuant = Quantization.ActivationQuantizer.Odd,
    Quantization.WeightQuantizer WeightQuant = Quantization.WeightQuantizer.Odd);

/// <summary>
/// An architecture: its default width and dropout, how it builds its layers for a class count, and the batch size its
/// paper used (0: the trainer's default).
/// </summary>
public sealed record Architecture(string Name, string Description, int DefaultWidth, float DefaultInputDropout, float DefaultHiddenDropout,
    Func<ArchOptions, Shape, int, List<Layer>> Build, int DefaultBatch = 0, int DefaultEpochs = 0);

/// <summary>
/// The named architectures of `qnn train --arch`. Every one ends with the export-friendly head: a binary dense layer
/// and a batch norm with one shared scale, which folds into integer scores (format/SPEC.md 1.7).
/// </summary>
public static class Architectures
{
    /// <summary>
    /// The default MLP's epochs: 100, a schedule that fits issue 16's budget of 15 minutes on 2 cores (about 6.8 s an
    /// epoch): 99.17 % deployed against 98.92 % after 40 (trainer/README.md, "Default recipe").
    /// </summary>
    public const int MlpEpochs = 100;

    public static readonly Dictionary<string, Architecture> All = new(StringComparer.OrdinalIgnoreCase)
    {
        ["mlp"] = new("mlp", "the paper's MNIST MLP: 3 hidden binary dense layers of --width units", 1024, 0.1f, 0.2f,
            (o, input, classes) => Mlp(o, classes, 3, o.Width), DefaultEpochs: MlpEpochs),
        ["mlp-micro"] = new("mlp-micro", "784-256-256-10 for microcontrollers", 256, 0f, 0f,
            (o, input, classes) => Mlp(o, classes, 2, o.Width)),
        ["conv"] = new("conv", "a small conv net for 28x28: 2 binary 3x3 convs with fused 2x2 max-pools, a dense layer", 32, 0f, 0.1f,
            (o, input, classes) => Conv(o, classes)),
        ["paper-cifar10"] = new("paper-cifar10", "the BNN paper's CIFAR-10 ConvNet: (2x128C3)-MP2-(2x256C3)-MP2-(2x512C3)-MP2-(2x1024FC)-10; --width sets the first convs (128), the rest scale with it",
            128, 0f, 0f, (o, input, classes) => PaperConvNet(o, classes, denseUnits: 8 * o.Width), DefaultBatch: 50),
        ["paper-svhn"] = new("paper-svhn", "the BNN paper's SVHN ConvNet: paper-cifar10 with half the conv units, (2x64C3)-MP2-(2x128C3)-MP2-(2x256C3)-MP2-(2x1024FC)-10",
            64, 0f, 0f, (o, input, classes) => PaperConvNet(o, classes, denseUnits: 16 * o.Width), DefaultBatch: 50),
    };

    public static Architecture Get(string name) => Registry.Get(All, name, "architecture");

    /// <summary>Fills the options' defaults from the architecture and builds its layers.</summary>
    public static List<Layer> Build(string name, ArchOptions options, Shape input, int classes, out ArchOptions resolved)
    {
        var arch = Get(name);
        resolved = options with
        {
            Width = options.Width > 0 ? options.Width : arch.DefaultWidth,
            InputDropout = options.InputDropout >= 0 ? options.InputDropout : arch.DefaultInputDropout,
            HiddenDropout = options.HiddenDropout >= 0 ? options.HiddenDropout : arch.DefaultHiddenDropout,
        };
        if (resolved.WeightBits is < 1 or > 4) throw new ArgumentException("weight bits are 1-4");
        if (resolved.ActBits is < 1 or > 4) throw new ArgumentException("activation bits are 1-4");
        return arch.Build(resolved, input, classes);
    }

    private static void Block(List<Layer> layers, Layer product, ArchOptions o, bool pool = false)
    {
        layers.Add(product);
        if (pool) layers.Add(new MaxPool2D(2));
        layers.Add(new BatchNorm());
        layers.Add(Registry.Activation(o.ActBits, o.ActQuant));
        if (o.HiddenDropout > 0) layers.Add(new Dropout(o.HiddenDropout));
    }

    private static void Head(List<Layer> layers, int classes, ArchOptions o)
    {
        layers.Add(new BinaryDense(classes, o.WeightBits, o.WeightQuant));
        layers.Add(new BatchNorm(sharedScale: true));
    }

    private static List<Layer> Mlp(ArchOptions o, int classes, int hidden, int width)
    {
        var layers = new List<Layer>();
        if (o.InputDropout > 0) layers.Add(new Dropout(o.InputDropout));
        for (int i = 0; i < hidden; i++) Block(layers, new BinaryDense(width, o.WeightBits, o.WeightQuant), o);
        Head(layers, classes, o);
        return layers;
    }

    /// <summary>
    /// The ConvNet of the BNN paper (Courbariaux, Hubara et al. 2016, section 2.6 and its Theano code): three stages of
    /// two 3 × 3 binary convolutions with padding 1, the second followed by a 2 × 2 max-pool (before its batch norm and
    /// binarization, as SPEC's fused pooling), then two binary dense layers and the head, batch norm after every layer.
    /// </summary>
    private static List<Layer> PaperConvNet(ArchOptions o, int classes, int denseUnits)
    {
        var layers = new List<Layer>();
        var conv = o with { HiddenDropout = 0 };
        if (o.InputDropout > 0) layers.Add(new Dropout(o.InputDropout));
        foreach (int filters in new[] { o.Width, 2 * o.Width, 4 * o.Width })
        {
            Block(layers, new BinaryConv2D(filters, 3, 1, 1, o.WeightBits, o.WeightQuant), conv);
            Block(layers, new BinaryConv2D(filters, 3, 1, 1, o.WeightBits, o.WeightQuant), conv, pool: true);
        }
        Block(layers, new BinaryDense(denseUnits, o.WeightBits, o.WeightQuant), o);
        Block(layers, new BinaryDense(denseUnits, o.WeightBits, o.WeightQuant), o);
        Head(layers, classes, o);
        return layers;
    }

    private static List<Layer> Conv(ArchOptions o, int classes)
    {
        int w = o.Width;
        var layers = new List<Layer>();
        if (o.InputDropout > 0) layers.Add(new Dropout(o.InputDropout));
        Block(layers, new BinaryConv2D(w, 3, 1, 1, o.WeightBits, o.WeightQuant), o with { HiddenDropout = 0 }, pool: true);
        Block(layers, new BinaryConv2D(2 * w, 3, 1, 1, o.WeightBits, o.WeightQuant), o with { HiddenDropout = 0 }, pool: true);
        Block(layers, new BinaryDense(8 * w, o.WeightBits, o.WeightQuant), o);
        Head(layers, classes, o);
        return layers;
    }
}
