using Qnn.Format;
using Qnn.Runtime.Edge.Fast;
using Qnn.TestSupport;

namespace Qnn.Runtime.Edge.Tests;

/// <summary>
/// Log weights (SPEC 1.3, w = ±2^e) of every width 2–4 in every layer kind — a first conv and a first dense layer over
/// unsigned pixels, a padded, pooled hidden conv over more than 32 channels, hidden dense and the score head — equal
/// the literal SPEC (<see cref="SpecOracle"/>, plain integer products) in the portable interpreter, resident and
/// streamed, and the portable interpreter in the fast path, layer by layer. The random models of the other property
/// tests draw log layers too (RandomModels); these make sure that each case occurs.
/// </summary>
public class LogWeightTests
{
    public static TheoryData<int, bool> Widths => new() { { 2, false }, { 3, false }, { 4, false }, { 2, true }, { 3, true }, { 4, true } };

    /// <summary>A conv net (conv first) or an MLP (dense first), every weighted layer log with m bits.</summary>
    public static QnnModel Model(int m, bool denseFirst, Random rng)
    {
        const WeightCode log = WeightCode.Log;
        LayerSpec[] layers = denseFirst
            ? [
                LayerFactory.Dense(1, 1, 100, 37, m, 8, false, OutputKind.Thresholds, 2, log),
                LayerFactory.Dense(1, 1, 37, 70, m, 2, true, OutputKind.Thresholds, 1, log),
                LayerFactory.Dense(1, 1, 70, 10, m, 1, true, OutputKind.Scores, 0, log),
            ]
            : [
                LayerFactory.Conv2D(9, 9, 3, 45, 3, 3, 1, 1, m, 8, false, OutputKind.Thresholds, 2, weightCode: log),
                LayerFactory.Conv2D(9, 9, 45, 20, 3, 3, 1, 1, m, 2, true, OutputKind.Thresholds, 1, 2, 2, log),
                LayerFactory.Conv2D(4, 4, 20, 33, 2, 2, 2, 1, m, 1, true, OutputKind.Thresholds, 3, weightCode: log),
                LayerFactory.Dense(3, 3, 33, 6, m, 3, true, OutputKind.Scores, 0, log),
            ];
        var model = new QnnModel
        {
            InputHeight = denseFirst ? 1 : 9, InputWidth = denseFirst ? 1 : 9, InputChannels = denseFirst ? 100 : 3, InputBits = 8,
            ClassCount = denseFirst ? 10 : 6, Layers = layers,
        };
        foreach (var l in layers) RandomLayers.Fill(rng, l);
        return ModelReader.Read(new ArraySource(ModelWriter.Write(model)));
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Log_layers_equal_the_spec_in_every_runtime_of_runtime_edge(int m, bool denseFirst)
    {
        var rng = new Random(m * 7 + (denseFirst ? 1 : 0));
        var model = Model(m, denseFirst, rng);
        byte[] bytes = ModelWriter.Write(model);
        var portable = new Interpreter(model);
        var streamed = new Interpreter(ModelReader.Read(new ArraySource(bytes), false), new ArraySource(bytes));
        var fast = new FastInterpreter(model);
        for (int n = 0; n < 12; n++)
        {
            byte[] image = RandomModels.Image(rng, model);
            if (n % 3 == 1) for (int i = 0; i < image.Length; i++) image[i] = (byte)(i % 4 == 0 ? 255 : 0);  // sparse and bright
            var expected = SpecOracle.Run(model, image);
            var observer = new RecordingObserver();
            portable.Observer = observer;
            var scores = new int[model.ClassCount];
            portable.Run(image, scores);
            for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i], observer.Layers[i]);
            var streamedScores = new int[model.ClassCount];
            streamed.Run(image, streamedScores);
            Assert.Equal(scores, streamedScores);
            var layers = fast.RunLayers(image);
            for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i], layers[i]);
        }
        // Every exponent occurs in every layer's weights (the random planes draw them all).
        foreach (var l in model.Layers) Assert.Equal(WeightCode.Log, l.WeightCode);
    }

    /// <summary>
    /// The largest accumulators: an all-white image through a first layer whose weights are all +2^(E−1) reaches the
    /// SPEC 4 bound exactly (in 16-bit lanes the fast path's sums pass 2^15 many times over).
    /// </summary>
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void A_white_image_under_the_largest_log_weights_reaches_the_bound(int m)
    {
        var first = LayerFactory.Dense(1, 1, 784, 8, m, 8, false, OutputKind.Thresholds, 1, WeightCode.Log);
        var head = LayerFactory.Dense(1, 1, 8, 2, 1, 1, true, OutputKind.Scores, 0);
        var model = new QnnModel { InputHeight = 1, InputWidth = 1, InputChannels = 784, InputBits = 8, ClassCount = 2, Layers = [first, head] };
        RandomLayers.Fill(new Random(m), first);
        RandomLayers.Fill(new Random(m), head);
        // Every plane all ones: sign +, exponent 2^(m−1) − 1 (bits past 784 stay 0).
        for (int i = 0; i < first.Weights!.Length; i++) first.Weights[i] = i % 25 == 24 ? 0xFFFFu : 0xFFFFFFFFu;
        Array.Fill(first.Thresholds!, first.AccumulatorBound);
        Array.Clear(first.Flip!);
        model = ModelReader.Read(new ArraySource(ModelWriter.Write(model)));
        byte[] white = Enumerable.Repeat((byte)255, 784).ToArray();
        var expected = SpecOracle.Run(model, white);
        Assert.Equal(new uint[] { 0xFF }, expected[0]);     // acc = bound ≥ threshold = bound for all 8 filters
        var observer = new RecordingObserver();
        var portable = new Interpreter(model) { Observer = observer };
        portable.Run(white, new int[2]);
        Assert.Equal(expected[0], observer.Layers[0]);
        Assert.Equal(expected[0], new FastInterpreter(model).RunLayers(white)[0]);
    }
}
