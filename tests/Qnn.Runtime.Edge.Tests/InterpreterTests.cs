using CsCheck;
using Qnn.Format;
using Qnn.TestSupport;

namespace Qnn.Runtime.Edge.Tests;

public class InterpreterTests
{
    /// <summary>Every layer of random models (every kind, bit width, odd sizes, paddings) equals the literal SPEC.</summary>
    [Fact]
    public void Every_layer_equals_the_spec_oracle_on_random_models()
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            var model = ModelReader.Read(new ArraySource(ModelWriter.Write(RandomModels.Create(rng))));
            var image = RandomModels.Image(rng, model);
            var expected = SpecOracle.Run(model, image);
            var interpreter = new Interpreter(model);
            var observer = new RecordingObserver();
            interpreter.Observer = observer;
            var scores = new int[model.ClassCount];
            int predicted = interpreter.Run(image, scores);
            Assert.Equal(expected.Count, observer.Layers.Count);
            for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i], observer.Layers[i]);
            Assert.Equal(expected[^1], scores.Select(s => (uint)s).ToArray());
            Assert.Equal(SpecOracle.Predict(expected[^1]), predicted);
        }, iter: 300);
    }

    /// <summary>Streaming each filter from the file gives the same outputs as holding the weights.</summary>
    [Fact]
    public void Streamed_weights_give_the_same_outputs_as_resident_weights()
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            byte[] bytes = ModelWriter.Write(RandomModels.Create(rng));
            var source = new ArraySource(bytes);
            var resident = new Interpreter(ModelReader.Read(source));
            var streamed = new Interpreter(ModelReader.Read(source, false), source);
            Assert.True(streamed.Plan.Streamed);
            Assert.False(resident.Plan.Streamed);
            var a = new RecordingObserver();
            var b = new RecordingObserver();
            resident.Observer = a;
            streamed.Observer = b;
            var image = RandomModels.Image(rng, resident.Model);
            int classes = resident.Model.ClassCount;
            var sa = new int[classes];
            var sb = new int[classes];
            Assert.Equal(resident.Run(image, sa), streamed.Run(image, sb));
            Assert.Equal(sa, sb);
            Assert.Equal(a.Layers.Count, b.Layers.Count);
            for (int i = 0; i < a.Layers.Count; i++) Assert.Equal(a.Layers[i], b.Layers[i]);
        }, iter: 100);
    }

    [Fact]
    public void Run_allocates_nothing()
    {
        for (int seed = 0; seed < 20; seed++)
        {
            var rng = new Random(seed);
            byte[] bytes = ModelWriter.Write(RandomModels.Create(rng));
            var source = new ArraySource(bytes);
            foreach (var interpreter in new[] { new Interpreter(ModelReader.Read(source)), new Interpreter(ModelReader.Read(source, false), source) })
            {
                var image = RandomModels.Image(rng, interpreter.Model);
                var scores = new int[interpreter.Model.ClassCount];
                interpreter.Run(image, scores);
                Assert.Equal(0, Allocations.Least(() =>
                {
                    interpreter.Run(image, scores);
                    interpreter.Run(image, scores);
                }));
            }
        }
    }

    [Fact]
    public void Ties_go_to_the_lowest_class()
    {
        Assert.Equal(1, Interpreter.ArgMax([3, 7, 7, -1], 4));
        Assert.Equal(0, Interpreter.ArgMax([5, 5], 2));
        Assert.Equal(2, Interpreter.ArgMax([-9, -9, -2, -2], 4));
    }

    [Fact]
    public void The_portable_ArgMax_and_the_desktop_one_agree()
    {   // SPEC 1.7 has two homes only because the nanoFramework subset has no spans: they must never drift apart.
        var rng = new Random(17);
        for (int trial = 0; trial < 2000; trial++)
        {
            int classes = rng.Next(1, 12);
            int[] scores = Enumerable.Range(0, classes).Select(_ => rng.Next(-3, 4) * (trial % 3 == 0 ? int.MaxValue / 4 : 1)).ToArray();
            Assert.Equal(Interpreter.ArgMax(scores, classes), Qnn.Format.Prediction.ArgMax(scores));
        }
    }

    [Fact]
    public void Popcount_matches_the_hardware_instruction()
    {
        Gen.UInt.Sample(x => Assert.Equal(System.Numerics.BitOperations.PopCount(x), Popcount.Count(x)), iter: 10000);
        Assert.Equal(32, Popcount.Count(uint.MaxValue));
        Assert.Equal(0, Popcount.Count(0));
    }

    [Fact]
    public void Wrong_image_or_score_sizes_are_refused()
    {
        var model = RandomModels.Create(new Random(3));
        var interpreter = new Interpreter(model);
        Assert.Throws<ArgumentException>(() => interpreter.Run(new byte[1 + model.InputHeight * model.InputWidth * model.InputChannels], new int[model.ClassCount]));
        Assert.Throws<ArgumentException>(() => interpreter.Run(RandomModels.Image(new Random(1), model), new int[model.ClassCount - 1]));
    }

    [Fact]
    public void A_model_read_without_its_layers_needs_the_streaming_constructor()
    {
        byte[] bytes = ModelWriter.Write(RandomModels.Create(new Random(5)));
        var model = ModelReader.Read(new ArraySource(bytes), false);
        Assert.Throws<ArgumentException>(() => new Interpreter(model));
    }

    /// <summary>DenseAccumulator (one pixel, signed input) is SPEC 1.4's Σ w · a over odd levels, read from the planes.</summary>
    [Fact]
    public void DenseAccumulator_is_the_sum_of_products_of_levels()
    {
        var rng = new Random(17);
        for (int trial = 0; trial < 500; trial++)
        {
            int channels = rng.Next(1, 130), k = rng.Next(1, 4), m = rng.Next(1, 4), cw = (channels + 31) >> 5;
            int inputAt = rng.Next(0, 5), weightAt = rng.Next(0, 5);
            var input = new uint[inputAt + k * cw + 3];
            var weights = new uint[weightAt + m * cw + 3];
            long expected = 0;
            for (int c = 0; c < channels; c++)
            {
                int qa = rng.Next(1 << k), qw = rng.Next(1 << m);
                for (int j = 0; j < k; j++) if (((qa >> j) & 1) != 0) input[inputAt + j * cw + (c >> 5)] |= 1u << (c & 31);
                for (int i = 0; i < m; i++) if (((qw >> i) & 1) != 0) weights[weightAt + i * cw + (c >> 5)] |= 1u << (c & 31);
                expected += (long)(2 * qa - ((1 << k) - 1)) * (2 * qw - ((1 << m) - 1));
            }
            Assert.Equal(expected, Interpreter.DenseAccumulator(input, inputAt, weights, weightAt, channels, k, m));
        }
    }
}
