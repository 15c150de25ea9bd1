using CsCheck;
using Qnn.Datasets;
using Qnn.Format;
using Qnn.Runtime.Edge.Fast;
using Qnn.TestSupport;

namespace Qnn.Runtime.Edge.Tests;

/// <summary>The fast path gives the portable interpreter's integers on every layer, with every kernel this machine has.</summary>
public class FastInterpreterTests
{
    public static TheoryData<FastKernel> Kernels()
    {
        // Each kernel this process can run: on x64 Scalar, Avx2, Avx512 (fewer under DOTNET_EnableAVX512F=0 or
        // DOTNET_EnableAVX2=0, see test.sh); on ARM64 Scalar and AdvSimd.
        var kernels = new TheoryData<FastKernel>();
        foreach (var kernel in new[] { FastKernel.Scalar, FastKernel.Avx2, FastKernel.Avx512, FastKernel.AdvSimd })
            if (PopcountBlock.Supported(kernel)) kernels.Add(kernel);
        return kernels;
    }

    private static void AssertSameLayers(Interpreter portable, FastInterpreter fast, byte[] image)
    {
        var observer = new RecordingObserver();
        portable.Observer = observer;
        var scores = new int[portable.Model.ClassCount];
        int expected = portable.Run(image, scores);
        var layers = fast.RunLayers(image);
        Assert.Equal(observer.Layers.Count, layers.Length);
        for (int i = 0; i < layers.Length; i++) Assert.True(observer.Layers[i].AsSpan().SequenceEqual(layers[i]), $"layer {i} differs");
        var fastScores = new int[scores.Length];
        Assert.Equal(expected, fast.Run(image, fastScores));
        Assert.Equal(scores, fastScores);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Every_layer_equals_the_portable_interpreter_on_random_models(FastKernel kernel)
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            var model = RandomModels.Create(rng);
            var fast = new FastInterpreter(model, kernel);
            Assert.Equal(kernel, fast.Kernel);
            var portable = new Interpreter(model);
            for (int n = 0; n < 3; n++) AssertSameLayers(portable, fast, RandomModels.Image(rng, model));
        }, iter: 200);
    }

    /// <summary>Wide layers: patches longer than the SIMD fold of 31 words, and many filter blocks.</summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void Wide_layers_equal_the_portable_interpreter(FastKernel kernel)
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            var limits = new RandomModels.Limits(MaxSide: 6, MaxChannels: 300, MaxDense: 700, MaxLayers: 3, MaxBits: 2);
            var model = RandomModels.Create(rng, limits);
            AssertSameLayers(new Interpreter(model), new FastInterpreter(model, kernel), RandomModels.Image(rng, model));
        }, iter: 25);
    }

    /// <summary>
    /// A random conv layer of <paramref name="make"/>(pool, pool stride): in two of three draws a fused 2×2 max-pool of
    /// stride 1 or 2 where the unpooled output allows it, else the unpooled layer, half of those with uneven padding
    /// (bottom, right) and a different stride across.
    /// </summary>
    private static LayerSpec PooledOrAsymmetric(Random rng, Func<int, int, LayerSpec> make)
    {
        var conv = make(0, 0);
        if (conv.OutH >= 2 && conv.OutW >= 2 && rng.Next(3) != 0) return make(2, rng.Next(1, 3));
        if (rng.Next(2) == 0)
        {
            conv.PadBottom = rng.Next(0, conv.KernelH);
            conv.PadRight = rng.Next(0, conv.KernelW);
            conv.StrideW = rng.Next(1, 3);
            conv.OutH = conv.ConvOutH;
            conv.OutW = conv.ConvOutW;
        }
        return conv;
    }

    /// <summary>
    /// The conv layers past the first (FastInterpreter.RunConv: a patch GEMM, pool windows' rows together, the pool as
    /// the least disagreement sum): patches of every length from 1 to 40 words (both sides of HarleySealRows' 16 and of
    /// the 4-row kernel), 1×1 to 5×5 kernels, strides, padding, fused pools of stride 1 and 2 or none with asymmetric
    /// padding, weight, input and output widths of 1–3 bits, odd and log weights.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void Conv_layers_of_every_patch_length_equal_the_portable_interpreter(FastKernel kernel)
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            int side = rng.Next(2, 10), inBits = rng.Next(1, 4), outBits = rng.Next(1, 4), k = Math.Min(side, rng.Next(1, 6));
            int words = rng.Next(1, 41), channels = Math.Max(1, ((words - 1) * 64 + rng.Next(1, 65)) / (k * k));
            var first = LayerFactory.Conv2D(side, side, 1, channels, 1, 1, 1, 0, 1, 8, false, OutputKind.Thresholds, inBits);
            bool log = rng.Next(5) == 0;
            int m = log ? rng.Next(FormatConstants.MinLogBits, FormatConstants.MaxLogBits + 1) : rng.Next(1, 4);
            var code = log ? WeightCode.Log : WeightCode.Odd;
            int filters = rng.Next(4) == 0 ? rng.Next(1, 200) : rng.Next(1, 40), stride = rng.Next(1, 3), pad = rng.Next(0, k);
            var conv = PooledOrAsymmetric(rng, (pool, poolStride) =>
                LayerFactory.Conv2D(side, side, channels, filters, k, k, stride, pad, m, inBits, true, OutputKind.Thresholds, outBits, pool, poolStride, code));
            if (RandomLayers.AccumulatorBound(conv) >= FormatConstants.MaxAccumulatorBound) return;
            var head = LayerFactory.Dense(conv.OutH, conv.OutW, filters, 10, 1, outBits, true, OutputKind.Scores, 0);
            foreach (var l in new[] { first, conv, head }) RandomLayers.Fill(rng, l);
            var model = new QnnModel { InputHeight = side, InputWidth = side, InputChannels = 1, InputBits = 8, ClassCount = 10, Layers = [first, conv, head] };
            AssertSameLayers(new Interpreter(model), new FastInterpreter(model, kernel), RandomModels.Image(rng, model));
        }, iter: 150);
    }

    /// <summary>
    /// A first layer over a large bright image: the fast path sums a window's lit pixels in 16-bit lanes and widens
    /// them every 128 taps (FirstConv); 784 pixels of 255 under m-bit weights sum far past 2^15, so a missing or late
    /// widening shows here. Dense and a 28×28 conv (the same window) at every weight width, on a white image, on
    /// random ones and on sparse ones.
    /// </summary>
    [Fact]
    public void A_first_layer_over_a_bright_28x28_image_sums_past_16_bits_exactly()
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            int m = rng.Next(1, 5), filters = rng.Next(1, 300), outBits = rng.Next(1, 3);
            var first = rng.Next(2) == 0
                ? LayerFactory.Dense(28, 28, 1, filters, m, 8, false, OutputKind.Thresholds, outBits)
                : LayerFactory.Conv2D(28, 28, 1, filters, 28, 28, 1, 0, m, 8, false, OutputKind.Thresholds, outBits);
            var head = LayerFactory.Dense(1, 1, filters, 10, 1, outBits, true, OutputKind.Scores, 0);
            RandomLayers.Fill(rng, first);
            RandomLayers.Fill(rng, head);
            var model = new QnnModel { InputHeight = 28, InputWidth = 28, InputChannels = 1, InputBits = 8, ClassCount = 10, Layers = [first, head] };
            var portable = new Interpreter(model);
            var fast = new FastInterpreter(model);
            var white = Enumerable.Repeat((byte)255, 784).ToArray();
            var sparse = RandomModels.Image(rng, model);
            for (int i = 0; i < sparse.Length; i++) if (rng.Next(4) != 0) sparse[i] = 0;
            foreach (var image in new[] { white, RandomModels.Image(rng, model), sparse }) AssertSameLayers(portable, fast, image);
        }, iter: 40);
    }

    /// <summary>
    /// The first layer's two routes (FirstConv): windows of up to 128 taps summed over every tap from the padded levels,
    /// larger ones over their gathered lit taps. Convs of 1×1 to 7×7 taps over 1–4 channels (9 to 196 taps, both sides
    /// of 128), asymmetric padding and strides, fused pools, odd and log weights of every width, and a dense layer of
    /// exactly 128 taps; 1–299 filters; on white images (the largest 16-bit sums), random ones, and mostly dark ones
    /// whose dark windows the all-taps route skips. With AVX-512BW the all-taps route sums tap pairs (vpmaddubsw): odd
    /// KW·C rows end in a pair whose second level lies past the row.
    /// </summary>
    [Fact]
    public void First_layers_of_every_window_size_equal_the_portable_interpreter_on_dark_and_white_images()
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            int side = rng.Next(4, 13), c = rng.Next(1, 5), k = rng.Next(1, 8), outBits = rng.Next(1, 3);
            // Mostly up to 3 groups of 32 filters; a quarter 97–299, so that the pair route's tiles of 4 groups run too.
            int filters = rng.Next(4) == 0 ? rng.Next(97, 300) : rng.Next(1, 80);
            bool log = rng.Next(3) == 0;
            int m = log ? rng.Next(FormatConstants.MinLogBits, FormatConstants.MaxLogBits + 1) : rng.Next(1, 5);
            var code = log ? WeightCode.Log : WeightCode.Odd;
            k = Math.Min(k, side);
            LayerSpec first;
            if (rng.Next(5) == 0)
            {
                side = 8;
                c = 2;
                first = LayerFactory.Dense(8, 8, 2, filters, m, 8, false, OutputKind.Thresholds, outBits, code);
            }
            else
            {
                int stride = rng.Next(1, 3), pad = rng.Next(0, k);
                first = PooledOrAsymmetric(rng, (pool, poolStride) =>
                    LayerFactory.Conv2D(side, side, c, filters, k, k, stride, pad, m, 8, false, OutputKind.Thresholds, outBits, pool, poolStride, code));
            }
            if (RandomLayers.AccumulatorBound(first) >= FormatConstants.MaxAccumulatorBound) return;
            var head = LayerFactory.Dense(first.OutH, first.OutW, filters, 10, 1, outBits, true, OutputKind.Scores, 0);
            RandomLayers.Fill(rng, first);
            RandomLayers.Fill(rng, head);
            var model = new QnnModel { InputHeight = side, InputWidth = side, InputChannels = c, InputBits = rng.Next(1, 9), ClassCount = 10, Layers = [first, head] };
            var portable = new Interpreter(model);
            var fast = new FastInterpreter(model);
            var white = Enumerable.Repeat((byte)255, side * side * c).ToArray();
            var dark = RandomModels.Image(rng, model);
            // A blob of light in the dark, as on an MNIST digit: whole windows dark around it.
            int y0 = rng.Next(side), x0 = rng.Next(side), y1 = rng.Next(y0, side), x1 = rng.Next(x0, side);
            for (int i = 0; i < dark.Length; i++)
            {
                int y = i / c / side, x = i / c % side;
                if (y < y0 || y > y1 || x < x0 || x > x1 || rng.Next(3) == 0) dark[i] = 0;
            }
            foreach (var image in new[] { white, RandomModels.Image(rng, model), dark, new byte[white.Length] }) AssertSameLayers(portable, fast, image);
        }, iter: 150);
    }

    /// <summary>
    /// The gathering route of the first layer (windows of more than 128 taps: a Dense layer over the image, a large
    /// conv): lit pixels found 16 bytes a compare, then per lit pixel masked adds into 16-bit lanes — 512-bit vectors
    /// and one mask bit per filter where the machine has them (groups of 32 filters, 8 groups a tile, and the tiles'
    /// remainders), byte masks otherwise. 1 to 600 filters, odd weights of 1 to 8 bits and log weights, every input
    /// width, and pixels just below and at the lowest lit byte (2^(8 − bits)): a byte that rounds to level 0 is dark,
    /// the next one is lit (level 1), so a compare that drops the lowest level shows (it failed so).
    /// </summary>
    [Fact]
    public void The_gathering_first_layer_equals_the_portable_interpreter_at_every_width_and_threshold()
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            int filters = rng.Next(1, 601), outBits = rng.Next(1, 3), bits = rng.Next(1, 9);
            bool log = rng.Next(3) == 0;
            int m = log ? rng.Next(FormatConstants.MinLogBits, FormatConstants.MaxLogBits + 1) : rng.Next(1, 9);
            var code = log ? WeightCode.Log : WeightCode.Odd;
            int side = rng.Next(12, 29), c = rng.Next(1, 4);
            int k = c == 1 ? 12 : 9; // more than 128 taps
            var first = rng.Next(3) == 0
                ? LayerFactory.Conv2D(side, side, c, filters, k, k, rng.Next(1, 4), rng.Next(0, 5), m, 8, false, OutputKind.Thresholds, outBits, 0, 0, code)
                : LayerFactory.Dense(side, side, c, filters, m, 8, false, OutputKind.Thresholds, outBits, code);
            if (RandomLayers.AccumulatorBound(first) >= FormatConstants.MaxAccumulatorBound) return;
            var head = LayerFactory.Dense(first.OutH, first.OutW, filters, 10, 1, outBits, true, OutputKind.Scores, 0);
            RandomLayers.Fill(rng, first);
            RandomLayers.Fill(rng, head);
            var model = new QnnModel { InputHeight = side, InputWidth = side, InputChannels = c, InputBits = bits, ClassCount = 10, Layers = [first, head] };
            var portable = new Interpreter(model);
            var fast = new FastInterpreter(model);
            int lowest = 1 << (8 - bits);
            var edge = new byte[side * side * c];
            var digit = new byte[edge.Length];
            for (int i = 0; i < edge.Length; i++)
            {
                edge[i] = (byte)(rng.Next(3) switch { 0 => lowest - 1, 1 => lowest, _ => 0 });
                // About a fifth lit, in runs as a stroke is: the 16-byte compares meet lit and dark bytes in one vector.
                digit[i] = (byte)((i / 3 + seed) % 5 == 0 ? rng.Next(lowest, 256) : 0);
            }
            var white = Enumerable.Repeat((byte)255, edge.Length).ToArray();
            foreach (var image in new[] { edge, digit, white, RandomModels.Image(rng, model) }) AssertSameLayers(portable, fast, image);
        }, iter: 40);
    }

    /// <summary>
    /// Convolutions over channels in whole 32-bit words (32, 64, 96: BitPatch copies words instead of shifting bits) at
    /// 1 and 2 input bits, with padding, stride and a fused pool, on every kernel.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void Convolutions_over_whole_channel_words_equal_the_portable_interpreter(FastKernel kernel)
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            int channels = 32 * rng.Next(1, 4), k = rng.Next(1, 3), side = rng.Next(3, 9), stride = rng.Next(1, 3), pad = rng.Next(0, 2);
            var first = LayerFactory.Conv2D(side, side, 3, channels, 3, 3, 1, 1, rng.Next(1, 3), 8, false, OutputKind.Thresholds, k);
            int m = rng.Next(1, 3);
            var conv = LayerFactory.Conv2D(side, side, channels, 40, 3, 3, stride, pad, m, k, true, OutputKind.Thresholds, 1);
            if (conv.ConvOutH >= 2 && rng.Next(2) == 0) conv = LayerFactory.Conv2D(side, side, channels, 40, 3, 3, stride, pad, m, k, true, OutputKind.Thresholds, 1, 2, 2);
            var head = LayerFactory.Dense(conv.OutH, conv.OutW, 40, 10, 1, 1, true, OutputKind.Scores, 0);
            foreach (var l in new[] { first, conv, head }) RandomLayers.Fill(rng, l);
            var model = new QnnModel { InputHeight = side, InputWidth = side, InputChannels = 3, InputBits = 8, ClassCount = 10, Layers = [first, conv, head] };
            AssertSameLayers(new Interpreter(model), new FastInterpreter(model, kernel), RandomModels.Image(rng, model));
        }, iter: 40);
    }

    /// <summary>One image at a time reuses a pooled workspace: no garbage per inference (no GC pause on a Pi).</summary>
    [Fact]
    public void Run_allocates_nothing_after_the_first_call()
    {
        for (int seed = 0; seed < 20; seed++)
        {
            var rng = new Random(seed);
            var model = RandomModels.Create(rng);
            var fast = new FastInterpreter(model);
            var image = RandomModels.Image(rng, model);
            var scores = new int[model.ClassCount];
            fast.Run(image, scores);
            Assert.Equal(0, Allocations.Least(() =>
            {
                fast.Run(image, scores);
                fast.Run(image, scores);
            }));
        }
    }

    /// <summary>
    /// Dense layers 1024 and 2048 wide (whole Harley–Seal groups: on AVX-512 the straight-line one-group kernel, and
    /// thresholds fused into the kernel where outputs are binary), at 1 and 2 weight and input bits, binary and 2-bit
    /// outputs, filter counts off whole blocks; one sample and batches of every group size against the portable
    /// interpreter.
    /// </summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void Dense_layers_of_whole_popcount_groups_equal_the_portable_interpreter(FastKernel kernel)
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            int width = 1024 * rng.Next(1, 3), filters = rng.Next(1, 1100), m = rng.Next(1, 3), firstBits = rng.Next(1, 3), outBits = rng.Next(1, 3);
            var first = LayerFactory.Dense(4, 4, 1, width, 1, 8, false, OutputKind.Thresholds, firstBits);
            var hidden = LayerFactory.Dense(1, 1, width, filters, m, firstBits, true, OutputKind.Thresholds, outBits);
            var head = LayerFactory.Dense(1, 1, filters, 10, 1, outBits, true, OutputKind.Scores, 0);
            foreach (var l in new[] { first, hidden, head }) RandomLayers.Fill(rng, l);
            var model = new QnnModel { InputHeight = 4, InputWidth = 4, InputChannels = 1, InputBits = 8, ClassCount = 10, Layers = [first, hidden, head] };
            var fast = new FastInterpreter(model, kernel);
            AssertSameLayers(new Interpreter(model), fast, RandomModels.Image(rng, model));
            var portable = new Interpreter(model);
            int count = rng.Next(2, 10);
            var images = new byte[count * 16];
            rng.NextBytes(images);
            var scores = new int[count * 10];
            var predictions = new int[count];
            fast.RunBatch(images, count, scores, predictions);
            var one = new int[10];
            for (int s = 0; s < count; s++)
            {
                Assert.Equal(portable.Run(images.AsSpan(s * 16, 16).ToArray(), one), predictions[s]);
                Assert.Equal(one, scores.AsSpan(s * 10, 10).ToArray());
            }
        }, iter: 25);
    }

    /// <summary>A batch runs 4 samples at a time through each layer (rows blocked): every group size and kernel.</summary>
    [Theory]
    [MemberData(nameof(Kernels))]
    public void A_batch_across_cores_equals_one_sample_at_a_time(FastKernel kernel)
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            var model = RandomModels.Create(rng);
            var fast = new FastInterpreter(model, kernel);
            int count = rng.Next(1, 40), bytes = model.InputHeight * model.InputWidth * model.InputChannels, classes = model.ClassCount;
            var images = new byte[count * bytes];
            rng.NextBytes(images);
            var scores = new int[count * classes];
            var predictions = new int[count];
            fast.RunBatch(images, count, scores, predictions);
            var one = new int[classes];
            for (int s = 0; s < count; s++)
            {
                Assert.Equal(fast.Run(images.AsSpan(s * bytes, bytes), one), predictions[s]);
                Assert.Equal(one, scores.AsSpan(s * classes, classes).ToArray());
            }
        }, iter: 30);
    }

    /// <summary>
    /// Both paths on all 10,000 MNIST test images, through an MNIST-shaped network of random weights
    /// (8-bit input through bit-planes, conv with fused pool at 1 and 2 bits, dense, scores).
    /// The trained-model check is the trainer's.
    /// </summary>
    [Fact]
    public void Both_paths_agree_on_all_MNIST_test_images()
    {
        var test = DatasetLoader.Load("mnist").Test;
        Assert.Equal(10000, test.Count);
        var rng = new Random(2016);
        var layers = new[]
        {
            LayerFactory.Conv2D(28, 28, 1, 8, 3, 3, 1, 1, 1, 8, false, OutputKind.Thresholds, 1, 2),
            LayerFactory.Conv2D(14, 14, 8, 24, 3, 3, 1, 1, 2, 1, true, OutputKind.Thresholds, 2, 2),
            LayerFactory.Dense(7, 7, 24, 100, 1, 2, true, OutputKind.Thresholds, 1),
            LayerFactory.Dense(1, 1, 100, 10, 2, 1, true, OutputKind.Scores, 0),
        };
        foreach (var l in layers) RandomLayers.Fill(rng, l);
        var model = new QnnModel { InputHeight = 28, InputWidth = 28, InputChannels = 1, InputBits = 8, ClassCount = 10, Layers = layers };
        model = ModelReader.Read(new ArraySource(ModelWriter.Write(model)));
        var fast = new FastInterpreter(model);
        var fastScores = new int[test.Count * 10];
        var fastPredictions = new int[test.Count];
        fast.RunBatch(test.Pixels, test.Count, fastScores, fastPredictions);
        // The portable interpreter is single-threaded by design: one per core, each over its share of the images.
        var mismatches = new System.Collections.Concurrent.ConcurrentBag<int>();
        var classesSeen = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, test.Count), range =>
        {
            var portable = new Interpreter(model);
            var image = new byte[test.SampleBytes];
            var scores = new int[10];
            for (int s = range.Item1; s < range.Item2; s++)
            {
                test.Image(s).CopyTo(image);
                int predicted = portable.Run(image, scores);
                if (predicted != fastPredictions[s] || !fastScores.AsSpan(s * 10, 10).SequenceEqual(scores)) mismatches.Add(s);
                classesSeen[predicted] = true;
            }
        });
        Assert.Empty(mismatches);
        Assert.True(classesSeen.Count > 1, "a network that predicts one class for every image would compare little");
    }
}
