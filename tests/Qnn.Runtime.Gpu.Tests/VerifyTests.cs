using Qnn.Datasets;
using Qnn.Format;
using Qnn.Runtime.Gpu;
using Qnn.TestSupport;
using Qnn.Verification;

namespace Qnn.Runtime.Gpu.Tests;

/// <summary>Qnn.Verification (behind `qnn verify`): agreeing runtimes pass, and a mismatch planted on purpose is found, located and fails the run.</summary>
[Collection(CpuAcceleratorCollection.Name)]
public sealed class VerifyTests(CpuAccelerator cpu)
{
    /// <summary>Wraps a runtime and changes one output of one sample: a score, or a word of a layer.</summary>
    private sealed class Planted(IntegerRuntime inner, int sample, int layer, int word) : IntegerRuntime
    {
        public override string Name => "planted";

        public override void Run(ReadOnlySpan<byte> images, int count, int[] scores, uint[][]? layers)
        {
            inner.Run(images, count, scores, layers);
            if (sample >= count) return;
            if (layer < 0) scores[sample * (scores.Length / count) + word] ^= 1;
            else if (layers is not null) layers[layer][sample * (layers[layer].Length / count) + word] ^= 1u << 3;
        }
    }

    private static QnnModel Model(int seed, out Dataset data, int samples = 12) => RandomSamples.Model(seed, out data, samples);

    [Fact]
    public void AgreeingRuntimesMatchWithEqualDigests()
    {
        QnnModel model = Model(21, out Dataset data);
        IntegerRuntime[] runtimes = [new PortableRuntime(model), new FastRuntime(model),
            new GpuRuntime(new GpuInterpreter(cpu.Device, model), KernelVersions.Default)];
        foreach (bool layers in new[] { false, true })
        {
            var report = Verifier.Verify(model, "m.qnn", data, runtimes, layers, null);
            Assert.True(report.Match);
            Assert.True(report.Match);
            Assert.All(report.Runtimes, r => Assert.Equal(0, r.Mismatches));
            Assert.All(report.Runtimes, r => Assert.Equal(report.Runtimes[0].Digest, r.Digest));
            Assert.All(report.Runtimes, r => Assert.Equal(report.Runtimes[0].Correct, r.Correct));
        }
        runtimes[2].Dispose();
    }

    /// <summary>
    /// Colour and other multi-channel inputs (issue 14): for each input channel count C of 1–4, random models read
    /// C × 8 bit-planes the same on the portable interpreter, the fast path, the GPU kernels and ONNX Runtime.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void EveryInputChannelCountFromOneToFourAgreesOnEveryRuntime(int channels)
    {
        for (int seed = 0; seed < 3; seed++)
        {
            QnnModel model = RandomSamples.Model(100 * channels + seed, out Dataset data, samples: 6, channels: channels);
            Assert.Equal(channels, model.InputChannels);
            using var gpu = new GpuRuntime(new GpuInterpreter(cpu.Device, model), KernelVersions.Default);
            using var onnx = new OnnxRuntimeAdapter(model);
            var report = Verifier.Verify(model, "m.qnn", data, [new PortableRuntime(model), new FastRuntime(model), gpu, onnx], false, null);
            Assert.True(report.Match, string.Join("; ", report.Runtimes.SelectMany(r => r.FirstMismatches.Select(m => $"{r.Runtime}: {m}"))));
        }
    }

    [Fact]
    public void APlantedScoreMismatchIsReportedWithItsSampleAndFails()
    {
        QnnModel model = Model(22, out Dataset data);
        using var gpu = new GpuRuntime(new GpuInterpreter(cpu.Device, model), KernelVersions.Default);
        var report = Verifier.Verify(model, "m.qnn", data,
            [new PortableRuntime(model), gpu, new Planted(gpu, sample: 5, layer: -1, word: 1)], false, null);
        Assert.False(report.Match);
        Assert.False(report.Match);
        Assert.Equal(0, report.Runtimes[1].Mismatches);
        var planted = report.Runtimes[2];
        Assert.Equal(1, planted.Mismatches);
        Assert.Equal(5, planted.FirstMismatches[0].Sample);
        Assert.Equal(model.Layers.Length - 1, planted.FirstMismatches[0].Layer);
        Assert.Contains("class 1", planted.FirstMismatches[0].Where);
        Assert.NotEqual(report.Runtimes[1].Digest, planted.Digest);
    }

    [Fact]
    public void APlantedLayerMismatchIsLocatedOnlyWithLayers()
    {
        QnnModel model = Model(23, out Dataset data);
        var portable = new PortableRuntime(model);
        // A flipped bit of a hidden layer whose effect may vanish in later layers: --layers must still see it.
        var planted = new Planted(new PortableRuntime(model), sample: 2, layer: 0, word: 0);
        var withLayers = Verifier.Verify(model, "m.qnn", data, [portable, planted], true, null);
        Assert.False(withLayers.Match);
        Assert.Equal(1, withLayers.Runtimes[1].Mismatches);
        Assert.Equal(2, withLayers.Runtimes[1].FirstMismatches[0].Sample);
        Assert.Equal(0, withLayers.Runtimes[1].FirstMismatches[0].Layer);
        Assert.StartsWith("layer 0 word 0", withLayers.Runtimes[1].FirstMismatches[0].Where);
    }

    [Fact]
    public void OnnxRuntimeOnTheExportedGraphMatchesThePortableInterpreter()
    {
        for (int seed = 40; seed < 46; seed++)
        {
            QnnModel model = Model(seed, out Dataset data, samples: 20);
            using var onnx = new OnnxRuntimeAdapter(model);
            var report = Verifier.Verify(model, "m.qnn", data, [new PortableRuntime(model), onnx], false, null);
            Assert.True(report.Match, $"seed {seed}: {string.Join("; ", report.Runtimes[1].FirstMismatches)}");
            Assert.Throws<VerificationException>(() => Verifier.Verify(model, "m.qnn", data, [new PortableRuntime(model), onnx], true, null));
        }
    }
}
