using System.CommandLine;
using System.Diagnostics;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using Qnn.Datasets;
using Qnn.Format;
using Qnn.Runtime.Edge;
using Qnn.Runtime.Edge.Fast;
using Qnn.Runtime.Gpu;
using Spectre.Console;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn verify MODEL --dataset mnist [--runtimes portable,fast,gpu] [--limit N] [--layers] [--json]`: runs every
/// runtime on the same images and compares every class score (and with --layers every layer's output) with the
/// first runtime's, exactly. Exit code 0 when all agree, 1 on any mismatch (or error).
/// </summary>
public static class VerifyCommand
{
    /// <summary>Mismatches listed per runtime; the count covers them all.</summary>
    public const int ListedMismatches = 5;
    /// <summary>Samples per round: each runtime runs a round, then the outputs are compared and dropped.</summary>
    public const int RoundSamples = 1000;

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The .qnn model file." };
        var dataset = new Option<string>("--dataset") { Description = "mnist or idx:FOLDER; the test split is used.", DefaultValueFactory = _ => "mnist" };
        var runtimes = new Option<string>("--runtimes") { Description = "Comma-separated runtimes; the first is the reference: portable, fast, gpu.", DefaultValueFactory = _ => "portable,fast,gpu" };
        var limit = new Option<int>("--limit") { Description = $"Only the first N test samples: {Cli.Limit.Text}." };
        var layers = new Option<bool>("--layers") { Description = "Compare every layer's output, not only the scores." };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON." };
        var accelerator = new Option<string>("--accelerator") { Description = "GPU runtime: cuda, opencl, cpu or auto (CUDA, else OpenCL, else the CPU accelerator).", DefaultValueFactory = _ => "auto" };
        var kernel = new Option<string>("--kernel") { Description = "GPU kernel versions, comma-separated, one gpu runtime each: xnor3, xnor2, xnor1, float, cublas, or auto (xnor3; xnor1 on the CPU accelerator, whose barriers are OS-thread meetings).", DefaultValueFactory = _ => "auto" };
        var command = new Command("verify", "Check that runtimes give identical integers on a data set (every score; every layer with --layers).");
        command.Arguments.Add(model);
        foreach (Option o in new Option[] { dataset, runtimes, limit, layers, json, accelerator, kernel }) command.Options.Add(o);
        command.SetAction(parse => Cli.Run("verify", () =>
        {
            string path = parse.GetValue(model)!;
            Cli.Check(Cli.Limit, parse.GetValue(limit));
            QnnModel m = ModelFile.Load(path);
            Dataset data = TestSplit(parse.GetValue(dataset)!, m, path, parse.GetValue(limit));
            string[] names = parse.GetValue(runtimes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (names.Length == 0) throw new UserError("--runtimes names no runtime");
            using var opened = new RuntimeSet(m, names, parse.GetValue(accelerator)!, parse.GetValue(kernel)!);
            bool asJson = parse.GetValue(json);
            VerifyReport report = asJson || data.Count < 1000
                ? Verify(m, path, data, opened.Runtimes, parse.GetValue(layers), null)
                : Cli.Err.Progress().Start(ctx =>
                {
                    var task = ctx.AddTask($"verifying {data.Count} samples", maxValue: data.Count);
                    return Verify(m, path, data, opened.Runtimes, parse.GetValue(layers), done => task.Value = done);
                });
            if (asJson) Cli.PrintJson(report);
            else Render(report, Cli.Out);
            return ExitCode(report);
        }));
        return command;
    }

    /// <summary>The exit code of a report: 0 when every runtime matched the reference, 1 on any mismatch.</summary>
    public static int ExitCode(VerifyReport report) => report.Match ? 0 : 1;

    /// <summary>A runtime verify can compare: runs images and gives their scores and, when asked, every layer's output.</summary>
    public abstract class Runtime : IDisposable
    {
        public abstract string Name { get; }

        /// <summary>
        /// Runs <paramref name="count"/> images of H·W·C bytes; fills <paramref name="scores"/>[n · classes + c] and, when
        /// <paramref name="layers"/> is not null, layers[l][n · words(l) + w] with the LayerObserver words of layer l
        /// (SPEC 1.2 words; for the last layer the scores cast to uint).
        /// </summary>
        public abstract void Run(ReadOnlySpan<byte> images, int count, int[] scores, uint[][]? layers);

        public virtual void Dispose() { }
    }

    /// <summary>Words of layer <paramref name="l"/>'s output per sample, as LayerObserver reports them.</summary>
    public static int LayerWords(QnnModel m, int l) => l == m.Layers.Length - 1 ? m.ClassCount : m.Layers[l].OutputWords;

    public sealed record Mismatch(int Sample, int Layer, string Where);
    public sealed record RuntimeResult(string Runtime, int Samples, int Mismatches, IReadOnlyList<Mismatch> FirstMismatches,
        int Correct, double Accuracy, string Digest, double Seconds, double MicrosecondsPerSample);
    public sealed record VerifyReport(string Model, string ModelId, string Dataset, int Samples, bool Layers, string Reference,
        IReadOnlyList<RuntimeResult> Runtimes, bool Match);

    /// <summary>
    /// Runs every runtime on <paramref name="data"/> in rounds of <see cref="RoundSamples"/> and compares each one's
    /// outputs with the first runtime's. Digests are XxHash64 of the scores (then every layer's words, with
    /// <paramref name="layers"/>) of all samples in order, as little-endian 32-bit words.
    /// </summary>
    public static VerifyReport Verify(QnnModel m, string modelName, Dataset data, IReadOnlyList<Runtime> runtimes, bool layers, Action<int>? progress)
    {
        int classes = m.ClassCount, bytes = data.SampleBytes, count = data.Count;
        int n = runtimes.Count;
        var digests = runtimes.Select(_ => new XxHash64()).ToArray();
        var mismatches = new int[n];
        var listed = runtimes.Select(_ => new List<Mismatch>()).ToArray();
        var correct = new int[n];
        var seconds = new double[n];
        for (int start = 0; start < count; start += RoundSamples)
        {
            int c = Math.Min(RoundSamples, count - start);
            ReadOnlySpan<byte> images = data.Pixels.AsSpan(start * bytes, c * bytes);
            int[]? refScores = null;
            uint[][]? refLayers = null;
            for (int r = 0; r < n; r++)
            {
                var scores = new int[c * classes];
                uint[][]? outputs = layers ? Enumerable.Range(0, m.Layers.Length).Select(l => new uint[c * LayerWords(m, l)]).ToArray() : null;
                var clock = Stopwatch.StartNew();
                runtimes[r].Run(images, c, scores, outputs);
                seconds[r] += clock.Elapsed.TotalSeconds;
                digests[r].Append(MemoryMarshal.AsBytes(scores.AsSpan()));
                if (outputs is not null) foreach (uint[] o in outputs) digests[r].Append(MemoryMarshal.AsBytes(o.AsSpan()));
                for (int s = 0; s < c; s++)
                    if (Interpreter.ArgMax(scores.AsSpan(s * classes, classes).ToArray(), classes) == data.Labels[start + s]) correct[r]++;
                if (r == 0) { refScores = scores; refLayers = outputs; continue; }
                for (int s = 0; s < c; s++)
                {
                    Mismatch? found = FirstDifference(m, s, start + s, refScores!, scores, refLayers, outputs);
                    if (found is null) continue;
                    mismatches[r]++;
                    if (listed[r].Count < ListedMismatches) listed[r].Add(found);
                }
            }
            progress?.Invoke(start + c);
        }
        var results = Enumerable.Range(0, n).Select(r => new RuntimeResult(runtimes[r].Name, count, mismatches[r], listed[r], correct[r],
            count == 0 ? 0 : Math.Round((double)correct[r] / count, 4), $"{digests[r].GetCurrentHashAsUInt64():x16}",
            Math.Round(seconds[r], 3), count == 0 ? 0 : Math.Round(seconds[r] * 1e6 / count, 1))).ToArray();
        return new VerifyReport(modelName, $"{m.ModelId:x16}", data.Name, count, layers, runtimes[0].Name, results, mismatches.All(x => x == 0));
    }

    /// <summary>The first layer (with layer outputs) or the first score where sample <paramref name="s"/> of a round differs.</summary>
    private static Mismatch? FirstDifference(QnnModel m, int s, int sample, int[] refScores, int[] scores, uint[][]? refLayers, uint[][]? layers)
    {
        if (refLayers is not null && layers is not null)
            for (int l = 0; l < m.Layers.Length - 1; l++)
            {
                int words = LayerWords(m, l);
                var a = refLayers[l].AsSpan(s * words, words);
                var b = layers[l].AsSpan(s * words, words);
                int w = a.CommonPrefixLength(b);
                if (w < words) return new Mismatch(sample, l, $"layer {l} word {w}: 0x{a[w]:X8} vs 0x{b[w]:X8}");
            }
        int classes = m.ClassCount;
        var x = refScores.AsSpan(s * classes, classes);
        var y = scores.AsSpan(s * classes, classes);
        int k = x.CommonPrefixLength(y);
        return k < classes ? new Mismatch(sample, m.Layers.Length - 1, $"score of class {k}: {x[k]} vs {y[k]}") : null;
    }

    public static void Render(VerifyReport r, IAnsiConsole console)
    {
        console.MarkupLine($"[bold]{Markup.Escape(r.Model)}[/] (model id {r.ModelId}) on {Markup.Escape(r.Dataset)}: {r.Samples} samples, " +
            (r.Layers ? "every layer's output" : "every class score") + $" compared with [bold]{Markup.Escape(r.Reference)}[/]");
        var table = new Table().AddColumns("runtime", "samples", "mismatches", "accuracy", "XxHash64 of outputs", "µs/sample");
        for (int i = 0; i < r.Runtimes.Count; i++)
        {
            RuntimeResult x = r.Runtimes[i];
            table.AddRow(Markup.Escape(x.Runtime), x.Samples.ToString(), i == 0 ? "reference" : (x.Mismatches == 0 ? "[green]0[/]" : $"[red]{x.Mismatches}[/]"),
                $"{x.Accuracy:P2}", x.Digest, $"{x.MicrosecondsPerSample:0.#}");
        }
        console.Write(table);
        foreach (RuntimeResult x in r.Runtimes)
            foreach (Mismatch mm in x.FirstMismatches)
                console.MarkupLine($"[red]mismatch[/] {Markup.Escape(x.Runtime)}: sample {mm.Sample}, layer {mm.Layer}: {Markup.Escape(mm.Where)}");
        console.MarkupLine(r.Match ? $"[green]identical[/]: {r.Samples} of {r.Samples} samples agree on every runtime" : "[red]MISMATCH[/]: the runtimes disagree");
    }

    /// <summary>The test split of a data set, checked against the model's input shape.</summary>
    public static Dataset TestSplit(string spec, QnnModel m, string modelPath, int limit)
    {
        Dataset test = DatasetLoader.Load(spec).Test;   // IdxFormatException is an IOException naming the file
        bool sameShape = test.Height == m.InputHeight && test.Width == m.InputWidth && test.Channels == m.InputChannels;
        // A trainer's MLP reads the image flattened to 1 × 1 × H·W·C: the same bytes in the same order.
        bool flattened = m.InputHeight == 1 && m.InputWidth == 1 && m.InputChannels == test.SampleBytes;
        if (!sameShape && !flattened)
            throw new UserError($"{modelPath}: the model reads {m.InputHeight}x{m.InputWidth}x{m.InputChannels} images, {spec} has {test.Height}x{test.Width}x{test.Channels}");
        return limit > 0 ? test.Take(limit) : test;
    }

    /// <summary>The runtimes named on the command line, opened once; the GPU's accelerator is chosen here, at the edge.</summary>
    public sealed class RuntimeSet : IDisposable
    {
        public IReadOnlyList<Runtime> Runtimes { get; }
        /// <summary>The accelerator's notice (e.g. the CPU fallback), or null.</summary>
        public string? Notice => _device?.Notice;
        private readonly GpuDevice? _device;

        public RuntimeSet(QnnModel m, IEnumerable<string> names, string accelerator, string kernel)
        {
            var list = new List<Runtime>();
            foreach (string name in names)
            {
                switch (name.ToLowerInvariant())
                {
                    case "portable": list.Add(new PortableRuntime(m)); break;
                    case "fast": list.Add(new FastRuntime(m)); break;
                    case "gpu":
                        KernelVersion[] versions;
                        try
                        {
                            if (_device is null)
                            {
                                _device = GpuDevice.Open(GpuDevice.ParseKind(accelerator));
                                if (_device.Notice is { } notice) Console.Error.WriteLine($"qnn: {notice}");
                            }
                            versions = kernel.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                                .Select(k => k == "auto" ? (_device.IsCpu ? KernelVersion.XnorGemm1 : KernelVersions.Default) : KernelVersions.Parse(k)).ToArray();
                        }
                        catch (NotSupportedException e) { throw new UserError(e.Message); }
                        if (versions.Contains(KernelVersion.CuBlas) && !_device.IsCuda) throw new UserError($"--kernel cublas needs a CUDA accelerator, this is {_device.Name}");
                        foreach (KernelVersion version in versions)
                        {
                            if (version == KernelVersion.CuBlas)
                            {
                                using CuBlasGemm? probe = CuBlasGemm.TryCreate(_device, out string? why);
                                if (probe is null)
                                {   // a CUDA machine without the cuBLAS library: say so and compare the others
                                    Console.Error.WriteLine($"qnn: skipping the cublas-sgemm runtime: {why}");
                                    continue;
                                }
                            }
                            list.Add(new GpuRuntime(new GpuInterpreter(_device, m), version));
                        }
                        break;
                    default: throw new UserError($"unknown runtime \"{name}\": use portable, fast or gpu");
                }
            }
            Runtimes = list;
        }

        public void Dispose()
        {
            foreach (Runtime r in Runtimes) r.Dispose();
            _device?.Dispose();
        }
    }

    /// <summary>The reference: the portable interpreter, one image at a time, layers through its LayerObserver.</summary>
    public sealed class PortableRuntime(QnnModel m) : Runtime
    {
        private readonly Interpreter _interpreter = new(m);
        private readonly byte[] _image = new byte[m.InputHeight * m.InputWidth * m.InputChannels];
        private readonly int[] _scores = new int[m.ClassCount];

        public override string Name => "portable";

        private sealed class Capture(uint[][] layers, int sample) : LayerObserver
        {
            public override void OnLayer(int layer, uint[] words, int wordCount) => Array.Copy(words, 0, layers[layer], sample * wordCount, wordCount);
        }

        public override void Run(ReadOnlySpan<byte> images, int count, int[] scores, uint[][]? layers)
        {
            for (int n = 0; n < count; n++)
            {
                images.Slice(n * _image.Length, _image.Length).CopyTo(_image);
                _interpreter.Observer = layers is null ? null : new Capture(layers, n);
                _interpreter.Run(_image, _scores);
                Array.Copy(_scores, 0, scores, n * m.ClassCount, m.ClassCount);
            }
        }
    }

    /// <summary>The fast .NET path: batches across cores; per-image RunLayers for --layers.</summary>
    public sealed class FastRuntime(QnnModel m) : Runtime
    {
        private readonly FastInterpreter _interpreter = new(m);
        public override string Name => "fast";

        public override void Run(ReadOnlySpan<byte> images, int count, int[] scores, uint[][]? layers)
        {
            if (layers is null)
            {
                _interpreter.RunBatch(images, count, scores, new int[count]);
                return;
            }
            int bytes = m.InputHeight * m.InputWidth * m.InputChannels;
            for (int n = 0; n < count; n++)
            {
                uint[][] outputs = _interpreter.RunLayers(images.Slice(n * bytes, bytes));
                for (int l = 0; l < outputs.Length; l++)
                {
                    int words = LayerWords(m, l);
                    outputs[l].AsSpan(0, words).CopyTo(layers[l].AsSpan(n * words, words));
                }
                for (int c = 0; c < m.ClassCount; c++) scores[n * m.ClassCount + c] = (int)outputs[^1][c];
            }
        }
    }

    /// <summary>The GPU runtime with one kernel version; layers are downloaded from the device after each batch.</summary>
    public sealed class GpuRuntime(GpuInterpreter gpu, KernelVersion version) : Runtime
    {
        public override string Name => $"gpu ({gpu.Device.Name}, {version.Name()})";

        public override void Run(ReadOnlySpan<byte> images, int count, int[] scores, uint[][]? layers)
        {
            if (layers is null)
            {
                gpu.RunBatch(images, count, scores, new int[count], version);
                return;
            }
            uint[][] outputs = gpu.RunLayers(images, count, version);
            for (int l = 0; l < outputs.Length; l++) outputs[l].CopyTo(layers[l], 0);
            for (int i = 0; i < scores.Length; i++) scores[i] = (int)outputs[^1][i];
        }

        public override void Dispose() => gpu.Dispose();
    }
}
