using System.Text.Json;
using Qnn.Datasets;
using Qnn.Format;
using Qnn.Cli;

namespace Qnn.Cli.Tests;

/// <summary>`qnn verify` as a user runs it: IDX files in, JSON out; a missing model is one line and exit code 1.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class VerifyVerbTests
{
    private static QnnModel Model(int seed, out Dataset data, int samples, bool oneChannel) => RandomSamples.Model(seed, out data, samples, oneChannel);

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
