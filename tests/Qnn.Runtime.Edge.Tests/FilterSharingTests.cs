using CsCheck;
using Qnn.Format;
using Qnn.Runtime.Edge.Fast;
using Qnn.TestSupport;

namespace Qnn.Runtime.Edge.Tests;

/// <summary>
/// The fast path computes each unique filter once and copies (or negates) its accumulator (FilterSharing): on models
/// with planted repeated and negated filters it still gives the portable interpreter's integers on every layer.
/// </summary>
public class FilterSharingTests
{
    /// <summary>
    /// Rewrites every weighted layer so that only a few of its filters are unique: each later filter is a copy of an
    /// earlier one or its negation (FilterRepetitions.Negate), and the planted layer keeps its own thresholds, flips,
    /// shifts and offsets per channel.
    /// </summary>
    private static void PlantRepetitions(Random rng, QnnModel model)
    {
        foreach (var l in model.Layers.Where(FilterRepetitions.HasFilters))
        {
            int fw = l.FilterWords, unique = rng.Next(1, Math.Max(2, l.OutC / 3) + 1);
            var w = l.Weights!;
            for (int f = unique; f < l.OutC; f++)
            {
                var source = w.AsSpan(rng.Next(0, f) * fw, fw);
                var target = w.AsSpan(f * fw, fw);
                if (rng.Next(2) == 0) source.CopyTo(target);
                else FilterRepetitions.Negate(l, source, target);
            }
        }
    }

    private static void AssertSameLayers(QnnModel model, FastInterpreter fast, Random rng)
    {
        var portable = new Interpreter(model);
        for (int n = 0; n < 3; n++)
        {
            var image = RandomModels.Image(rng, model);
            var observer = new RecordingObserver();
            portable.Observer = observer;
            var scores = new int[model.ClassCount];
            int expected = portable.Run(image, scores);
            var layers = fast.RunLayers(image);
            for (int i = 0; i < layers.Length; i++) Assert.True(observer.Layers[i].AsSpan().SequenceEqual(layers[i]), $"layer {i} differs");
            var fastScores = new int[scores.Length];
            Assert.Equal(expected, fast.Run(image, fastScores));
            Assert.Equal(scores, fastScores);
        }
    }

    /// <summary>
    /// Random models (every weight width, odd and log weights, 1–4-bit activations, conv with and without fused pool,
    /// dense, the first layer over the image) with planted repeats and negations, on every kernel this machine has;
    /// the sharing must have been taken on first layers and on later ones, or the test proves nothing.
    /// </summary>
    [Theory]
    [MemberData(nameof(FastInterpreterTests.Kernels), MemberType = typeof(FastInterpreterTests))]
    public void Planted_repeats_and_negations_equal_the_portable_interpreter(FastKernel kernel)
    {
        int sharedFirst = 0, sharedLater = 0, sharedLog = 0;
        var limits = new RandomModels.Limits(MaxSide: 8, MaxChannels: 80, MaxDense: 120, MaxLayers: 4, MaxBits: 4);
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            var model = RandomModels.Create(rng, limits);
            PlantRepetitions(rng, model);
            var fast = new FastInterpreter(model, kernel);
            for (int i = 0; i < model.Layers.Length; i++)
            {
                if (!fast.SharesFilters(i)) continue;
                if (i == 0) sharedFirst++;
                else sharedLater++;
                if (model.Layers[i].WeightCode == WeightCode.Log) sharedLog++;
            }
            AssertSameLayers(model, fast, rng);
        }, iter: 150, threads: 1);
        Assert.True(sharedFirst > 0 && sharedLater > 0 && sharedLog > 0, $"sharing taken on {sharedFirst} first layers, {sharedLater} later ones, {sharedLog} log ones");
    }

    /// <summary>A batch across cores runs the shared layers as one sample at a time does.</summary>
    [Fact]
    public void A_batch_of_a_planted_model_equals_one_sample_at_a_time()
    {
        var rng = new Random(16);
        var model = ConvNets.MnistLike();
        PlantRepetitions(rng, model);
        var fast = new FastInterpreter(model);
        Assert.True(fast.SharesFilters(3));   // the dense layer over 7x7x32: 25 words per filter saved
        Assert.False(fast.SharesFilters(1));  // the conv's 3-word patches save too little for the copies
        const int count = 13;
        var images = new byte[count * 784];
        rng.NextBytes(images);
        var scores = new int[count * 10];
        var predictions = new int[count];
        fast.RunBatch(images, count, scores, predictions);
        var portable = new Interpreter(model);
        var one = new int[10];
        for (int s = 0; s < count; s++)
        {
            Assert.Equal(portable.Run(images[(s * 784)..((s + 1) * 784)], one), predictions[s]);
            Assert.Equal(one, scores.AsSpan(s * 10, 10).ToArray());
        }
    }

    /// <summary>
    /// Sharing is taken only where it saves a whole unit of work and enough popcount words for its copies: a layer of
    /// distinct filters, one whose unique filters still fill every block of 8, or one of short filters runs as before.
    /// </summary>
    [Fact]
    public void Sharing_is_taken_only_where_it_saves_a_block_and_pays_for_its_copies()
    {
        var shortFilters = LayerFactory.Dense(1, 1, 40, 16, 1, 1, true, OutputKind.Thresholds, 1);
        RandomLayers.Fill(new Random(5), shortFilters);
        for (int f = 8; f < 16; f++) Array.Copy(shortFilters.Weights!, 0, shortFilters.Weights!, f * shortFilters.FilterWords, shortFilters.FilterWords);
        Assert.Equal(8, FilterRepetitions.MapOf(shortFilters)!.Unique);
        Assert.Null(FilterSharing.For(new FastLayer(shortFilters), 1));   // 8 filters x 1 word saved < 8 per copy x 16
        var layer = LayerFactory.Dense(1, 1, 1000, 16, 1, 1, true, OutputKind.Thresholds, 1);
        RandomLayers.Fill(new Random(5), layer);
        var fast = new FastLayer(layer);
        Assert.Null(FilterSharing.For(fast, 1));                       // 16 distinct random filters
        var w = layer.Weights!;
        int fw = layer.FilterWords;
        for (int f = 9; f < 16; f++) Array.Copy(w, 0, w, f * fw, fw);  // 9 unique (0 … 8): still 2 blocks of 8
        Assert.Null(FilterSharing.For(new FastLayer(layer), 1));
        Array.Copy(w, 0, w, 8 * fw, fw);                               // 8 unique: 1 block
        FilterRepetitions.Negate(layer, w.AsSpan(0, fw), w.AsSpan(9 * fw, fw));
        var sharing = FilterSharing.For(new FastLayer(layer), 1);
        Assert.NotNull(sharing);
        Assert.Equal(8, sharing.Unique.Spec.OutC);
        Assert.Equal((1, 2), FilterSharing.WorkUnits(layer, 1));
        // Expand: filter 8 copies filter 0, filter 9 negates it.
        var unique = Enumerable.Range(0, 8).Select(i => 100 + i).ToArray();
        var acc = new int[16];
        sharing.Expand(unique, acc);
        Assert.Equal((100, 100, -100), (acc[0], acc[8], acc[9]));
    }
}
