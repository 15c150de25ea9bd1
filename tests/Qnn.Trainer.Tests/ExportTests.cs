using Qnn.Format;
using Qnn.Runtime.Edge;
using Qnn.Runtime.Edge.Fast;
using Qnn.Trainer.Export;
using Qnn.Trainer.Training;

namespace Qnn.Trainer.Tests;

/// <summary>
/// Briefly trained networks of every exported shape — dense and conv, fused and standalone pools, m-bit weights and
/// k-bit activations — exported; the trainer's integer evaluation, the portable interpreter and the fast
/// interpreter must give the same integer scores on every image.
/// </summary>
public class ExportTests
{
    public static TheoryData<string, int, int, int> Configs => new()
    {
        { "mlp", 1, 1, 48 },
        { "mlp", 3, 4, 40 },
        { "conv", 1, 1, 4 },
        { "conv", 2, 2, 4 },
        { "mlp-micro", 2, 3, 33 },
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void Exported_model_gives_the_trainers_integers_in_both_runtimes(string arch, int weightBits, int actBits, int width)
    {
        var data = TestData.Mnist;
        var options = new TrainOptions
        {
            Arch = arch, Width = width, WeightBits = weightBits, ActBits = actBits, Epochs = 1, Batch = 50, TrainLimit = 600,
            Validation = 100, Seed = 3,
        };
        using var trainer = new Training.TrainingLoop(options, data.Train);
        trainer.Run();
        AssertAgreement(trainer.Network, data.Test, 300);
    }

    /// <summary>
    /// Inputs of 1–4 channels (issue 14: colour through the whole chain): each architecture, the paper's ConvNets
    /// included, trained briefly on random 16 × 16 × C images, exports a model whose integers the trainer, the
    /// portable and the fast interpreter agree on.
    /// </summary>
    [Theory]
    [InlineData("paper-cifar10", 3, 2)]
    [InlineData("paper-svhn", 3, 2)]
    [InlineData("conv", 2, 3)]
    [InlineData("conv", 4, 3)]
    [InlineData("mlp", 3, 40)]
    [InlineData("mlp-micro", 1, 24)]
    public void Inputs_of_one_to_four_channels_export_with_the_trainers_integers(string arch, int channels, int width)
    {
        var rng = new Random(channels * 31 + width);
        int count = 260, size = 16 * 16 * channels;
        var pixels = new byte[count * size];
        rng.NextBytes(pixels);
        var labels = Enumerable.Range(0, count).Select(i => (byte)(pixels[i * size] % 4)).ToArray();
        Datasets.Dataset Part(int start, int n, string name) => new()
        {
            Name = name, Height = 16, Width = 16, Channels = channels, ClassCount = 4,
            Pixels = pixels.AsSpan(start * size, n * size).ToArray(), Labels = labels.AsSpan(start, n).ToArray(),
        };
        var options = new TrainOptions { Arch = arch, Width = width, Epochs = 1, Batch = 20, Validation = 20, TrainLimit = 180, Seed = 4 };
        using var trainer = new Training.TrainingLoop(options, Part(0, 200, "random/train"));
        trainer.Run();
        Assert.Equal(channels, trainer.Network.InputShape.C);
        AssertAgreement(trainer.Network, Part(200, 60, "random/test"), 60, dataset: null);
    }

    [Fact]
    public void The_paper_convnets_have_the_papers_layers_and_batch()
    {
        var layers = Architectures.Build("paper-cifar10", new ArchOptions(), new Layers.Shape(32, 32, 3), 10, out var resolved);
        Assert.Equal(128, resolved.Width);
        Assert.Equal([128, 128, 256, 256, 512, 512], layers.OfType<Layers.BinaryConv2D>().Select(c => c.Filters));
        Assert.Equal([1024, 1024, 10], layers.OfType<Layers.BinaryDense>().Select(d => d.Units));
        Assert.Equal(3, layers.OfType<Layers.MaxPool2D>().Count());
        Assert.Equal(9, layers.OfType<Layers.BatchNorm>().Count());
        Assert.Equal(50, Architectures.Get("paper-cifar10").DefaultBatch);
        var svhn = Architectures.Build("paper-svhn", new ArchOptions(), new Layers.Shape(32, 32, 3), 10, out _);
        Assert.Equal([64, 64, 128, 128, 256, 256], svhn.OfType<Layers.BinaryConv2D>().Select(c => c.Filters));
        Assert.Equal([1024, 1024, 10], svhn.OfType<Layers.BinaryDense>().Select(d => d.Units));
    }

    /// <summary>
    /// The linear grid with 0 (stored as v − 1, an offset per channel folded into the next thresholds or scores) and
    /// stochastic binarization (the sign at inference) export to the same format, exactly.
    /// </summary>
    public static TheoryData<string, int, int, int, string> QuantizerConfigs => new()
    {
        { "mlp", 1, 1, 40, "linear" },
        { "mlp", 1, 2, 40, "linear" },
        { "mlp-micro", 2, 4, 33, "linear" },
        { "conv", 1, 2, 4, "linear" },
        { "mlp", 1, 1, 48, "stochastic" },
        { "conv", 1, 1, 4, "stochastic" },
    };

    [Theory]
    [MemberData(nameof(QuantizerConfigs))]
    public void Linear_and_stochastic_quantizers_export_exactly(string arch, int weightBits, int actBits, int width, string actQuant)
    {
        var data = TestData.Mnist;
        var options = new TrainOptions
        {
            Arch = arch, Width = width, WeightBits = weightBits, ActBits = actBits, ActQuant = actQuant, Epochs = 1, Batch = 50,
            TrainLimit = 600, Validation = 100, Seed = 3,
        };
        using var trainer = new Training.TrainingLoop(options, data.Train);
        trainer.Run();
        AssertAgreement(trainer.Network, data.Test, 300);
    }

    /// <summary>
    /// Log weights (QNN LogQuant, SPEC 1.3: every product a shift) of 2–4 bits in dense and conv layers, with odd and
    /// linear activations, and stochastic weights (BNN Eq. 2–3, the sign when deployed), with float or k-bit
    /// gradients, export exactly: the trainer's integers equal both interpreters' on every image.
    /// </summary>
    public static TheoryData<string, int, int, int, string, string, int> WeightQuantizerConfigs => new()
    {
        { "mlp", 2, 1, 40, "log", "odd", 32 },
        { "mlp-micro", 3, 2, 33, "log", "odd", 32 },
        { "mlp", 4, 2, 24, "log", "linear", 32 },
        { "conv", 2, 1, 4, "log", "odd", 32 },
        { "conv", 4, 2, 4, "log", "odd", 32 },
        { "mlp", 1, 1, 48, "stochastic", "odd", 32 },
        { "conv", 1, 1, 4, "stochastic", "odd", 32 },
        // k-bit gradients (the QNN paper's low-precision training) with log and stochastic weights: the float
        // product path over the quantized gradient levels, per tensor and per sample.
        { "mlp", 2, 1, 40, "log", "odd", 6 },
        { "conv", 3, 2, 4, "log", "odd", 6 },
        { "mlp", 1, 1, 48, "stochastic", "odd", 4 },
    };

    [Theory]
    [MemberData(nameof(WeightQuantizerConfigs))]
    public void Log_and_stochastic_weights_export_exactly(string arch, int weightBits, int actBits, int width, string weightQuant, string actQuant, int gradBits)
    {
        var data = TestData.Mnist;
        var options = new TrainOptions
        {
            Arch = arch, Width = width, WeightBits = weightBits, ActBits = actBits, WeightQuant = weightQuant, ActQuant = actQuant,
            Epochs = 1, Batch = 50, TrainLimit = 600, Validation = 100, Seed = 3, GradBits = gradBits, GradScale = gradBits == 4 ? "sample" : "tensor",
        };
        using var trainer = new Training.TrainingLoop(options, data.Train);
        trainer.Run();
        var model = AssertAgreement(trainer.Network, data.Test, 300);
        var expected = weightQuant == "log" ? WeightCode.Log : WeightCode.Odd;
        Assert.All(model.Layers.Where(l => l.Kind != LayerKind.MaxPool2D), l => Assert.Equal(expected, l.WeightCode));
    }

    [Fact]
    public void A_standalone_max_pool_over_levels_exports()
    {
        var data = TestData.Mnist;
        var layers = new List<Layers.Layer>
        {
            new Layers.BinaryConv2D(6, 3, 1, 1, 1), new Layers.BatchNorm(), new Layers.QuantizedActivation(2),
            new Layers.MaxPool2D(3, 2), new Layers.BinaryConv2D(8, 3, 2, 0, 2), new Layers.BatchNorm(), new Layers.QuantizedActivation(1),
            new Layers.MaxPool2D(2), new Layers.BinaryDense(10, 1), new Layers.BatchNorm(sharedScale: true),
        };
        using var net = new Network(new Backends.CpuBackend(), new Layers.Shape(28, 28, 1), 10, layers, 40, 5);
        // A few steps so the statistics are not the initial ones.
        var adam = new Adam(net.Backend);
        var labels = net.Backend.Allocate(40);
        var loss = net.Backend.Allocate(40);
        var d = net.Backend.Allocate(40, 10);
        for (int step = 0; step < 5; step++)
        {
            var idx = Enumerable.Range(step * 40, 40).ToArray();
            net.SetInput(data.Train.Pixels, idx);
            net.Backend.Upload(idx.Select(i => (float)data.Train.Labels[i]).ToArray(), labels);
            var s = net.Forward(40, true, step);
            net.Backend.LossForwardBackward(Backends.LossKind.SquaredHinge, s, labels, 40, 10, loss, d);
            net.Backward(d, 40);
            adam.Step(net.Parameters.ToList(), 0.01f);
        }
        AssertAgreement(net, data.Test, 200);
    }

    private static QnnModel AssertAgreement(Network net, Datasets.Dataset test, int count, string? dataset = "mnist")
    {
        var exported = ModelExporter.Export(net, dataset, test.ClassNames);
        var model = ModelFile.Parse(ModelWriter.Write(exported.Model), "exported");
        int classes = model.ClassCount;
        var (intScores, intPred) = IntegerEvaluation.Run(net, exported, test.Pixels, 0, count);
        var fast = new FastInterpreter(model);
        var portable = new Interpreter(model);
        var fastScores = new int[classes];
        var portableScores = new int[classes];
        var floatPred = new int[count];
        net.Evaluate(test.Pixels, test.Labels, 0, count, floatPred, out _, Backends.LossKind.SquaredHinge);
        int floatDiffers = 0;
        for (int i = 0; i < count; i++)
        {
            var image = test.Image(i).ToArray();
            int pf = fast.Run(image, fastScores);
            int pp = portable.Run(image, portableScores);
            var mine = intScores.AsSpan(i * classes, classes).ToArray();
            Assert.True(mine.SequenceEqual(fastScores), $"image {i}: trainer [{string.Join(",", mine)}], fast [{string.Join(",", fastScores)}]");
            Assert.True(mine.SequenceEqual(portableScores), $"image {i}: trainer [{string.Join(",", mine)}], portable [{string.Join(",", portableScores)}]");
            Assert.Equal(intPred[i], pf);
            Assert.Equal(intPred[i], pp);
            if (floatPred[i] != intPred[i]) floatDiffers++;
        }
        // Hidden layers are exact by construction; only a near-tie in the head's float arithmetic may differ.
        Assert.True(floatDiffers <= count / 500, $"{floatDiffers} of {count} float predictions differ from the integer model");
        return model;
    }
}
