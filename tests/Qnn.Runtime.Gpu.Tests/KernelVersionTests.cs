using CsCheck;
using Qnn.Format;
using Qnn.Gpu;
using Qnn.Runtime.Gpu;
using Qnn.TestSupport;

namespace Qnn.Runtime.Gpu.Tests;

/// <summary>
/// Every kernel version against the portable interpreter, layer by layer and bit for bit, on random models of
/// every layer kind and bit width (sizes that are not multiples of 32, 64 or the 64 × 64 tile) and random images.
/// The cuBLAS version needs CUDA and is checked by `qnn bench gpu` on a GPU.
/// </summary>
[Collection(CpuAcceleratorCollection.Name)]
public sealed class KernelVersionTests(CpuAccelerator cpu)
{
    public static readonly KernelVersion[] Versions =
        [KernelVersion.FloatBaseline, KernelVersion.XnorGemm1, KernelVersion.XnorGemm2, KernelVersion.XnorGemm3];

    private static readonly RandomModels.Limits Small = new(MaxSide: 9, MaxChannels: 70, MaxDense: 90, MaxLayers: 4, MaxBits: 3, MaxClasses: 11);

    [Fact]
    public void EveryVersionMatchesThePortableInterpreterOnRandomModels()
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            QnnModel model = RandomModels.Create(rng, Small);
            int count = rng.Next(1, 4);
            byte[] images = Images(rng, model, count);
            AssertAllVersionsMatch(model, images, count, maxBatch: 256);
        }, iter: 30, threads: 1);
    }

    [Fact]
    public void LayersWiderThanOneTileMatch()
    {
        // 5 images of 9×9 → 405 conv rows and 70 or 130 filters: several full and partial 64 × 64 tiles,
        // rows of 9 words (odd, so the last 64-bit word is half padding), a fused pool, multi-bit planes.
        var rng = new Random(7);
        var model = new QnnModel { InputHeight = 9, InputWidth = 9, InputChannels = 3, InputBits = 8, ClassCount = 10 };
        var conv = LayerFactory.Conv2D(9, 9, 3, 70, 3, 3, 1, 1, 1, 8, false, OutputKind.Thresholds, 1);
        var wide = LayerFactory.Conv2D(9, 9, 70, 130, 3, 3, 1, 1, 2, 1, true, OutputKind.Thresholds, 2, pool: 2, poolStride: 2);
        var dense = LayerFactory.Dense(4, 4, 130, 97, 1, 2, true, OutputKind.Thresholds, 1);
        var last = LayerFactory.Dense(1, 1, 97, 10, 1, 1, true, OutputKind.Scores, 0);
        model.Layers = [conv, wide, dense, last];
        foreach (var l in model.Layers) RandomLayers.Fill(rng, l);
        model = RoundTrip(model);
        AssertAllVersionsMatch(model, Images(rng, model, 5), 5, maxBatch: 256);
    }

    [Fact]
    public void TiledVersionsMatchWithTheirGpuGroupSize()
    {
        // The tests' CPU accelerator runs 8 × 2 groups; this one allows 256 threads, so the tiled versions run
        // with the 16 × 16 groups and 64 × 64 tiles they use on a GPU.
        using var gpuSized = GpuDevice.Open(AcceleratorKind.Cpu, cpuGroupThreads: 256);
        Assert.Equal(16, GpuKernels.For(gpuSized.Accelerator).TileGroupX);
        var rng = new Random(5);
        var model = new QnnModel { InputHeight = 5, InputWidth = 5, InputChannels = 2, InputBits = 2, ClassCount = 3 };
        var conv = LayerFactory.Conv2D(5, 5, 2, 67, 3, 3, 1, 1, 1, 2, false, OutputKind.Thresholds, 1);
        var dense = LayerFactory.Dense(5, 5, 67, 70, 2, 1, true, OutputKind.Thresholds, 2);
        var last = LayerFactory.Dense(1, 1, 70, 3, 1, 2, true, OutputKind.Scores, 0);
        model.Layers = [conv, dense, last];
        foreach (var l in model.Layers) RandomLayers.Fill(rng, l);
        model = RoundTrip(model);
        byte[] images = Images(rng, model, 3);
        uint[][] expected = PortableReference.RunLayers(model, images, 3);
        using var gpu = new GpuInterpreter(gpuSized, model);
        foreach (KernelVersion v in new[] { KernelVersion.XnorGemm2, KernelVersion.XnorGemm3 })
            AssertSame(model, expected, gpu.RunLayers(images, 3, v), v);
    }

    [Fact]
    public void BatchesLargerThanTheDeviceBatchAreSplit()
    {
        var rng = new Random(11);
        QnnModel model = RandomModels.Create(rng, Small);
        AssertAllVersionsMatch(model, Images(rng, model, 7), 7, maxBatch: 3);
    }

    [Fact]
    public void RunBatchGivesThePortableScoresAndPredictions()
    {
        var rng = new Random(3);
        QnnModel model = RandomModels.Create(rng, Small);
        byte[] images = Images(rng, model, 4);
        uint[][] expected = PortableReference.RunLayers(model, images, 4);
        using var gpu = new GpuInterpreter(cpu.Device, model);
        var scores = new int[4 * model.ClassCount];
        var predictions = new int[4];
        gpu.RunBatch(images, 4, scores, predictions);
        Assert.Equal(expected[^1].Select(x => (int)x).ToArray(), scores);
        for (int n = 0; n < 4; n++)
            Assert.Equal(Edge.Interpreter.ArgMax(scores.AsSpan(n * model.ClassCount, model.ClassCount).ToArray(), model.ClassCount), predictions[n]);
    }

    private void AssertAllVersionsMatch(QnnModel model, byte[] images, int count, int maxBatch)
    {
        uint[][] expected = PortableReference.RunLayers(model, images, count);
        using var gpu = new GpuInterpreter(cpu.Device, model, maxBatch);
        foreach (KernelVersion v in Versions)
            AssertSame(model, expected, gpu.RunLayers(images, count, v), v);
    }

    private static void AssertSame(QnnModel model, uint[][] expected, uint[][] actual, KernelVersion v)
    {
        {
            for (int l = 0; l < expected.Length; l++)
                if (!expected[l].AsSpan().SequenceEqual(actual[l]))
                {
                    int w = Enumerable.Range(0, expected[l].Length).First(i => expected[l][i] != actual[l][i]);
                    Assert.Fail($"{v.Name()}: layer {l} ({model.Layers[l].Kind}) word {w} of {expected[l].Length}: expected 0x{expected[l][w]:X8}, got 0x{actual[l][w]:X8}");
                }
        }
    }

    private static byte[] Images(Random rng, QnnModel model, int count)
    {
        var images = new byte[count * model.InputHeight * model.InputWidth * model.InputChannels];
        rng.NextBytes(images);
        return images;
    }

    /// <summary>Writes and reads the model, so that it passes the reader's checks like a real file.</summary>
    private static QnnModel RoundTrip(QnnModel model) => ModelFile.Parse(ModelWriter.Write(model), "test.qnn");
}
