using CsCheck;
using Qnn.Datasets;
using Qnn.Format;
using Qnn.Onnx;
using Qnn.TestSupport;

namespace Qnn.Onnx.Tests;

/// <summary>
/// The exported ONNX graph, run by ONNX Runtime, gives the portable interpreter's integers: on every MNIST test
/// image for an MLP of the MNIST shape, and on random models of every layer kind and bit width.
/// </summary>
public class OnnxExactnessTests
{
    private static readonly RandomModels.Limits Small = new(MaxSide: 9, MaxChannels: 40, MaxDense: 60, MaxLayers: 5, MaxBits: 3, MaxClasses: 10);

    [Fact]
    public void MnistMlp_SameScoresAsInterpreter_OnAllTestImages()
    {
        Dataset test = DatasetLoader.Load("mnist").Test;
        QnnModel model = OnnxRunner.RoundTrip(MnistMlp(new Random(2016)));

        var (difference, classes) = OnnxRunner.Compare(model, test.Pixels, test.Count);

        Assert.Null(difference);
        Assert.Equal(10_000, test.Count);
        // The comparison means something only if the network's output depends on the image.
        Assert.True(classes.Distinct().Count() >= 5, $"only {classes.Distinct().Count()} distinct predictions");
    }

    [Fact]
    public void MnistMlpOverImage_SameScoresAsInterpreter_OnAThousandTestImages()
    {
        // Narrow, and a tenth of the images: the portable interpreter reads this layout one word per pixel.
        Dataset test = DatasetLoader.Load("mnist").Test;
        QnnModel model = OnnxRunner.RoundTrip(MnistMlpOverImage(new Random(1998)));

        var (difference, classes) = OnnxRunner.Compare(model, test.Pixels, 1000);

        Assert.Null(difference);
        Assert.True(classes.Distinct().Count() >= 3, $"only {classes.Distinct().Count()} distinct predictions");
    }

    [Fact]
    public void RandomModels_SameScoresAsInterpreter()
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            QnnModel model = OnnxRunner.RoundTrip(RandomModels.Create(rng, Small));
            const int count = 3;
            var images = new byte[count * OnnxRunner.ImageBytes(model)];
            rng.NextBytes(images);
            var (difference, _) = OnnxRunner.Compare(model, images, count);
            if (difference != null) throw new Exception($"seed {seed}: {Describe(model)}: {difference}");
        }, iter: 150);
    }

    [Fact]
    public void RandomModels_CoverEveryLayerKindBitWidthAndPadding()
    {
        // The property test above is only as good as the models it draws: check that 150 draws of the same
        // generator reach every layer kind, both input kinds, bit widths 1-3, fused pools, flips and padding.
        var seen = new HashSet<string>();
        var rng = new Random(7);
        for (int i = 0; i < 150; i++)
            foreach (LayerSpec l in RandomModels.Create(new Random(rng.Next()), Small).Layers)
            {
                seen.Add(l.Kind.ToString());
                if (l.Kind == LayerKind.MaxPool2D) { seen.Add($"pool k{l.InputBits}"); continue; }
                seen.Add(l.InputSigned ? $"signed k{l.InputBits}" : "unsigned");
                seen.Add($"m{l.WeightBits}");
                if (l.Output == OutputKind.Thresholds) seen.Add($"out{l.OutputBits}");
                if (l.PoolH > 0) seen.Add("fused pool");
                if (l.InputSigned && (l.PadTop | l.PadLeft | l.PadBottom | l.PadRight) != 0) seen.Add("signed padding");
                if (!l.InputSigned && (l.PadTop | l.PadLeft | l.PadBottom | l.PadRight) != 0) seen.Add("unsigned padding");
                if (l.Flip != null && l.Flip.Any(w => w != 0)) seen.Add("flip");
            }
        string[] wanted =
        [
            "Dense", "Conv2D", "MaxPool2D", "unsigned", "signed k1", "signed k2", "signed k3", "m1", "m2", "m3",
            "out1", "out2", "out3", "fused pool", "signed padding", "unsigned padding", "flip", "pool k1", "pool k2",
        ];
        Assert.Empty(wanted.Except(seen));
    }

    [Fact]
    public void Export_RefusesALayerWhoseAccumulatorFloat32CannotHold()
    {
        // 4096 inputs of 8 bits times 5-bit weights: bound 4096·255·31 ≥ 2^24 (valid in SPEC, which allows 2^30).
        var model = new QnnModel { InputHeight = 64, InputWidth = 64, InputChannels = 1, InputBits = 8, ClassCount = 2 };
        var last = LayerFactory.Dense(64, 64, 1, 2, 5, 8, false, OutputKind.Scores, 0);
        RandomLayers.Fill(new Random(1), last);
        last.Shifts = [0, 0];
        model.Layers = [last];

        var e = Assert.Throws<OnnxExportException>(() => OnnxExporter.Export(model));
        Assert.Contains("2^24", e.Message);
    }

    [Fact]
    public void Export_StatesOpsetAndInputs()
    {
        QnnModel model = OnnxRunner.RoundTrip(RandomModels.Create(new Random(3), Small));
        OnnxExport export = OnnxExporter.Export(model);
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(export.Bytes);

        Assert.Equal(17, export.Opset);
        Assert.Equal([OnnxExporter.InputName], session.InputMetadata.Keys);
        Assert.Equal([OnnxExporter.ScoresName, OnnxExporter.ClassName], session.OutputMetadata.Keys);
        Assert.Equal(model.ModelId.ToString("x16"), session.ModelMetadata.CustomMetadataMap["qnn_model_id"]);
    }

    /// <summary>
    /// 784 → 256 → 256 → 10 as `qnn train` exports an MLP: the image read as one 1 × 1 × 784 vector of 8-bit pixels
    /// through bit-planes, 2-bit then 1-bit activations, 1-bit weights. Thresholds are drawn where the accumulators
    /// of real digits fall (a few thousand for the pixel layer, about √C for the ±1 layer), so that activations and
    /// predictions vary.
    /// </summary>
    internal static QnnModel MnistMlp(Random rng)
    {
        var layers = new[]
        {
            LayerFactory.Dense(1, 1, 784, 256, 1, 8, false, OutputKind.Thresholds, 2),
            LayerFactory.Dense(1, 1, 256, 256, 1, 2, true, OutputKind.Thresholds, 1),
            LayerFactory.Dense(1, 1, 256, 10, 1, 1, true, OutputKind.Scores, 0),
        };
        foreach (var l in layers) RandomLayers.Fill(rng, l);
        layers[0].Thresholds = Enumerable.Range(0, 256).SelectMany(c =>
        {
            var row = Enumerable.Range(0, 3).Select(_ => rng.Next(-3000, 3001)).Order().ToArray();
            return layers[0].IsFlipped(c) ? row.Reverse() : row;
        }).ToArray();
        layers[1].Thresholds = Enumerable.Range(0, 256).Select(_ => rng.Next(-48, 49)).ToArray();
        return new QnnModel { InputHeight = 1, InputWidth = 1, InputChannels = 784, InputBits = 8, ClassCount = 10, Layers = layers };
    }

    /// <summary>The same network reading the image as 28 × 28 × 1 (one weight word per pixel): the Dense-over-image path.</summary>
    internal static QnnModel MnistMlpOverImage(Random rng)
    {
        var layers = new[]
        {
            LayerFactory.Dense(28, 28, 1, 16, 1, 8, false, OutputKind.Thresholds, 1),
            LayerFactory.Dense(1, 1, 16, 10, 2, 1, true, OutputKind.Scores, 0),
        };
        foreach (var l in layers) RandomLayers.Fill(rng, l);
        layers[0].Thresholds = Enumerable.Range(0, 16).Select(_ => rng.Next(-3000, 3001)).ToArray();
        return new QnnModel { InputHeight = 28, InputWidth = 28, InputChannels = 1, InputBits = 8, ClassCount = 10, Layers = layers };
    }

    private static string Describe(QnnModel m) =>
        $"{m.InputHeight}x{m.InputWidth}x{m.InputChannels}/{m.InputBits}b: " + string.Join(" | ", m.Layers.Select(l =>
            $"{l.Kind} {l.InH}x{l.InW}x{l.InC}->{l.OutH}x{l.OutW}x{l.OutC} m{l.WeightBits} k{l.InputBits}{(l.InputSigned ? "" : "u")} o{l.OutputBits} "
            + $"k{l.KernelH}x{l.KernelW} s{l.StrideH},{l.StrideW} p{l.PadTop},{l.PadLeft},{l.PadBottom},{l.PadRight} pool{l.PoolH}/{l.PoolStrideH}"));
}
