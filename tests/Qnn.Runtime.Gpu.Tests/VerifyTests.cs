using System.Text.Json;
using Qnn.Cli;
using Qnn.Cli.Commands;
using Qnn.Datasets;
using Qnn.Format;
using Qnn.Runtime.Gpu;
using Qnn.TestSupport;

namespace Qnn.Runtime.Gpu.Tests;

/// <summary>`qnn verify`: agreeing runtimes pass, and a mismatch planted on purpose is found, located and fails the run.</summary>
[Collection(CpuAcceleratorCollection.Name)]
public sealed class VerifyTests(CpuAccelerator cpu)
{
    /// <summary>Wraps a runtime and changes one output of one sample: a score, or a word of a layer.</summary>
    private sealed class Planted(VerifyCommand.Runtime inner, int sample, int layer, int word) : VerifyCommand.Runtime
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

    private static QnnModel Model(int seed, out Dataset data, int samples = 12, bool oneChannel = false)
    {
        var rng = new Random(seed);
        QnnModel model;
        do model = RandomModels.Create(rng, new RandomModels.Limits(MaxSide: 7, MaxChannels: 40, MaxDense: 60, MaxLayers: 3, MaxBits: 2, MaxClasses: 6));
        while (model.Layers.Length < 2 || (oneChannel && model.InputChannels != 1));
        var pixels = new byte[samples * model.InputHeight * model.InputWidth * model.InputChannels];
        rng.NextBytes(pixels);
        var labels = Enumerable.Range(0, samples).Select(_ => (byte)rng.Next(model.ClassCount)).ToArray();
        data = new Dataset
        {
            Name = "random", Height = model.InputHeight, Width = model.InputWidth, Channels = model.InputChannels,
            Pixels = pixels, Labels = labels, ClassCount = model.ClassCount,
        };
        return model;
    }

    [Fact]
    public void AgreeingRuntimesMatchWithEqualDigests()
    {
        QnnModel model = Model(21, out Dataset data);
        VerifyCommand.Runtime[] runtimes = [new VerifyCommand.PortableRuntime(model), new VerifyCommand.FastRuntime(model),
            new VerifyCommand.GpuRuntime(new GpuInterpreter(cpu.Device, model), KernelVersions.Default)];
        foreach (bool layers in new[] { false, true })
        {
            var report = VerifyCommand.Verify(model, "m.qnn", data, runtimes, layers, null);
            Assert.True(report.Match);
            Assert.Equal(0, VerifyCommand.ExitCode(report));
            Assert.All(report.Runtimes, r => Assert.Equal(0, r.Mismatches));
            Assert.All(report.Runtimes, r => Assert.Equal(report.Runtimes[0].Digest, r.Digest));
            Assert.All(report.Runtimes, r => Assert.Equal(report.Runtimes[0].Correct, r.Correct));
        }
        runtimes[2].Dispose();
    }

    [Fact]
    public void APlantedScoreMismatchIsReportedWithItsSampleAndFails()
    {
        QnnModel model = Model(22, out Dataset data);
        using var gpu = new VerifyCommand.GpuRuntime(new GpuInterpreter(cpu.Device, model), KernelVersions.Default);
        var report = VerifyCommand.Verify(model, "m.qnn", data,
            [new VerifyCommand.PortableRuntime(model), gpu, new Planted(gpu, sample: 5, layer: -1, word: 1)], false, null);
        Assert.False(report.Match);
        Assert.NotEqual(0, VerifyCommand.ExitCode(report));
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
        var portable = new VerifyCommand.PortableRuntime(model);
        // A flipped bit of a hidden layer whose effect may vanish in later layers: --layers must still see it.
        var planted = new Planted(new VerifyCommand.PortableRuntime(model), sample: 2, layer: 0, word: 0);
        var withLayers = VerifyCommand.Verify(model, "m.qnn", data, [portable, planted], true, null);
        Assert.False(withLayers.Match);
        Assert.Equal(1, withLayers.Runtimes[1].Mismatches);
        Assert.Equal(2, withLayers.Runtimes[1].FirstMismatches[0].Sample);
        Assert.Equal(0, withLayers.Runtimes[1].FirstMismatches[0].Layer);
        Assert.StartsWith("layer 0 word 0", withLayers.Runtimes[1].FirstMismatches[0].Where);
    }

    [Fact]
    public void TheVerbRunsOnIdxFilesAndPrintsJson()
    {
        QnnModel model = Model(24, out Dataset data, samples: 9, oneChannel: true);   // IDX image files hold one channel
        string dir = Directory.CreateTempSubdirectory("qnn-verify-").FullName;
        try
        {
            string path = Path.Combine(dir, "m.qnn");
            ModelWriter.WriteFile(model, path);
            foreach (var (name, count) in new[] { ("train", 2), ("t10k", data.Count) })
            {
                WriteIdx(Path.Combine(dir, $"{name}-images-idx3-ubyte"), 0x803, [count, data.Height, data.Width], data.Pixels.AsSpan(0, count * data.SampleBytes));
                WriteIdx(Path.Combine(dir, $"{name}-labels-idx1-ubyte"), 0x801, [count], data.Labels.AsSpan(0, count));
            }
            var output = new StringWriter();
            var stdout = Console.Out;
            Console.SetOut(output);
            int code;
            try { code = Program.BuildRoot().Parse(["verify", path, "--dataset", "idx:" + dir, "--accelerator", "cpu", "--layers", "--json"]).Invoke(); }
            finally { Console.SetOut(stdout); }
            Assert.Equal(0, code);
            using var json = JsonDocument.Parse(output.ToString());
            Assert.True(json.RootElement.GetProperty("match").GetBoolean());
            Assert.Equal(9, json.RootElement.GetProperty("samples").GetInt32());
            Assert.Equal(3, json.RootElement.GetProperty("runtimes").GetArrayLength());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AMissingModelIsOneLineAndExitCodeOne()
    {
        var error = new StringWriter();
        var stderr = Console.Error;
        Console.SetError(error);
        int code;
        try { code = Program.BuildRoot().Parse(["verify", "/nonexistent/m.qnn", "--runtimes", "portable"]).Invoke(); }
        finally { Console.SetError(stderr); }
        Assert.Equal(1, code);
        Assert.Equal("qnn verify: /nonexistent/m.qnn: no such file", error.ToString().Trim());
    }

    private static void WriteIdx(string path, int magic, int[] dims, ReadOnlySpan<byte> data)
    {
        using var f = File.Create(path);
        Span<byte> word = stackalloc byte[4];
        foreach (int v in new[] { magic }.Concat(dims))
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(word, v);
            f.Write(word);
        }
        f.Write(data);
    }
}
