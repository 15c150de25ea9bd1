using System.CommandLine;
using Qnn.Benchmarks;
using Qnn.Datasets;
using Qnn.Format;
using Qnn.Runtime.Edge;
using Qnn.Runtime.Edge.Fast;
using Spectre.Console;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn bench edge MODEL [--batch N] [--seconds S] [--dataset D] [--json]`: latency at batch 1 and throughput at batch
/// N of the portable interpreter and the fast path, in binary MACs per second as each path's kernels compute them
/// (<see cref="BinaryMacs"/>: the fast path's first layer is masked byte adds, counted apart, not binary MACs) and as
/// a share of the popcount limit (<see cref="PopcountLimit"/>: the fastest of every kernel this machine runs, named)
/// measured in the same run on the same machine. A share above 100 % means the limit or the count is wrong: the bench
/// then prints a warning line (and lists it in the JSON's warnings).
/// </summary>
public static class BenchEdgeCommand
{
    public sealed record Limit(int Threads, double BinaryGmacsPerSecond, string Kernel, IReadOnlyList<KernelLimit> Kernels);

    public sealed record KernelLimit(string Kernel, double BinaryGmacsPerSecond);

    /// <summary>One path at one batch size; figures per sample from the median run, and from the best run (Best*).</summary>
    public sealed record PathResult(string Path, string Kernel, long BinaryMacsPerSample, int Batch, int Threads, double MedianMsPerBatch, double MinMsPerBatch, int Runs,
        double MicrosecondsPerSample, double SamplesPerSecond, double BinaryGmacsPerSecond, double RatioToLimit,
        double BestMicrosecondsPerSample, double BestRatioToLimit);

    /// <summary>One layer of the fast path: its binary MACs, or for the first layer its masked byte adds (Adds).</summary>
    public sealed record LayerResult(int Index, string Kind, string Shape, int WeightBits, int InputBits, long BinaryMacs, long Adds,
        long WeightBytes, double L2BoundMicroseconds, double Microseconds, double BinaryGmacsPerSecond, double GaddsPerSecond, double RatioToLimit,
        double BatchedMicroseconds, double BatchedBinaryGmacsPerSecond, double BatchedRatioToLimit,
        double AllCoresBinaryGmacsPerSecond, double AllCoresRatioToLimit);

    public sealed record Result(string Model, string ModelId, string Machine, int LogicalCores, DateTime UtcDate, string Inputs,
        long BinaryMacsPerSample, long FastBinaryMacsPerSample, long FastFirstLayerAddsPerSample, double L2ReadGBytesPerSecond,
        Limit SingleCoreLimit, Limit AllCoresLimit, IReadOnlyList<PathResult> Paths, IReadOnlyList<LayerResult> FastLayers, IReadOnlyList<string> Warnings);

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The .qnn model file." };
        var batch = new Option<int>("--batch") { Description = "Samples per batch for the throughput runs.", DefaultValueFactory = _ => 64 };
        var seconds = new Option<double>("--seconds") { Description = "Time budget of each measurement, in seconds.", DefaultValueFactory = _ => 2.0 };
        var dataset = new Option<string?>("--dataset") { Description = "Test images of a data set (mnist, idx:PATH) instead of random pixels; a sample must have the model's H*W*C bytes." };
        var json = new Option<bool>("--json") { Description = "Print the measurements as JSON." };
        var command = new Command("edge", "Edge runtime latency and throughput, in binary MACs/s against the popcount limit measured in the same run.");
        command.Arguments.Add(model);
        command.Options.Add(batch);
        command.Options.Add(seconds);
        command.Options.Add(dataset);
        command.Options.Add(json);
        command.SetAction(parse => Cli.Run("bench edge", () =>
        {
            string path = parse.GetValue(model)!;
            int n = parse.GetValue(batch);
            double budget = parse.GetValue(seconds);
            if (n < 1 || n > 100_000) throw new UserError("--batch must be 1-100000");
            if (!(budget > 0 && budget <= 600)) throw new UserError("--seconds must be above 0 and at most 600");
            QnnModel m = ModelFile.Load(path);
            if (m.Layers[0].Kind == LayerKind.Embedding) return BenchSequences(m, path, Math.Min(n, 256), budget, parse.GetValue(json));
            var (images, inputs) = Inputs(m, n, parse.GetValue(dataset));
            var result = Cli.Err.Status().Start("measuring", ctx => Measure(m, path, images, inputs, n, budget, s => ctx.Status(Markup.Escape(s))));
            if (parse.GetValue(json)) Cli.PrintJson(result);
            else Render(result);
            foreach (var warning in result.Warnings) Cli.Err.MarkupLine($"[yellow]warning:[/] {Markup.Escape(warning)}");
            return 0;
        }));
        return command;
    }

    private static (byte[] Images, string Description) Inputs(QnnModel m, int batch, string? dataset)
    {
        int bytes = m.InputHeight * m.InputWidth * m.InputChannels;
        if (dataset == null)
        {
            var images = new byte[batch * bytes];
            new Random(1).NextBytes(images);
            return (images, "random pixels (seed 1)");
        }
        Dataset test;
        try { test = DatasetLoader.Load(dataset).Test; }
        catch (IdxFormatException e) { throw new UserError(e.Message); }
        // Samples are fed as they are (SPEC 2.3): a model may read a 28x28 image as 1x1x784, but the bytes must match.
        if (test.SampleBytes != bytes)
            throw new UserError($"{dataset}: images are {test.Height}x{test.Width}x{test.Channels}, the model reads {m.InputHeight}x{m.InputWidth}x{m.InputChannels}");
        var data = new byte[batch * bytes];
        for (int s = 0; s < batch; s++) test.Image(s % test.Count).CopyTo(data.AsSpan(s * bytes));
        return (data, $"{dataset} test images");
    }

    public static Result Measure(QnnModel m, string path, byte[] images, string inputs, int batch, double budget, Action<string> progress)
    {
        int bytes = m.InputHeight * m.InputWidth * m.InputChannels, classes = m.ClassCount, cores = Environment.ProcessorCount;
        long macs = BinaryMacs.Of(m), fastMacs = BinaryMacs.Popcount(m), firstAdds = BinaryMacs.FirstLayerAdds(m);
        var limitTime = TimeSpan.FromSeconds(Math.Min(budget, 1.0));
        progress($"popcount limit, 1 core");
        var limit1 = PopcountLimit.Measure(limitTime, 1);
        progress($"popcount limit, {cores} cores");
        var limitN = PopcountLimit.Measure(limitTime, cores);
        progress("L2 read bandwidth, 1 core");
        double l2 = PopcountLimit.MeasureReadBytesPerSecond(limitTime / 4);

        var paths = new List<PathResult>();
        PathResult Row(string name, string kernel, int size, int threads, Timing t, PopcountLimit.Result limit)
        {
            long macs = name == "fast" ? fastMacs : BinaryMacs.Of(m);
            double perSample = t.MedianMs / size, best = t.MinMs / size;
            double gmacs = macs / (perSample / 1000) / 1e9, bestGmacs = macs / (best / 1000) / 1e9;
            return new PathResult(name, kernel, macs, size, threads, Math.Round(t.MedianMs, 4), Math.Round(t.MinMs, 4), t.Runs,
                Math.Round(perSample * 1000, 2), Math.Round(1000 / perSample, 1), Math.Round(gmacs, 3), Math.Round(gmacs * 1e9 / limit.BinaryMacsPerSecond, 3),
                Math.Round(best * 1000, 2), Math.Round(bestGmacs * 1e9 / limit.BinaryMacsPerSecond, 3));
        }

        var portable = new Interpreter(m);
        var fast = new FastInterpreter(m);
        var image = new byte[bytes];
        var scores = new int[classes];
        int next = 0;
        byte[] NextImage()
        {
            images.AsSpan(next * bytes, bytes).CopyTo(image);
            next = (next + 1) % batch;
            return image;
        }

        // Each path runs a while before it is timed, so that the JIT has replaced tier-0 code by optimized code.
        double warm = Math.Min(0.5, budget / 2);
        Timing Time(Action call)
        {
            Timing.Measure(call, minRuns: 3, budgetSeconds: warm);
            return Timing.Measure(call, budgetSeconds: budget);
        }

        progress("portable, batch 1");
        paths.Add(Row("portable", "scalar (shifts and adds)", 1, 1, Time(() => portable.Run(NextImage(), scores)), limit1));
        progress("fast, batch 1");
        paths.Add(Row("fast", fast.Kernel.ToString(), 1, 1, Time(() => fast.Run(NextImage(), scores)), limit1));

        progress($"portable, batch {batch} on {cores} cores");
        var perCore = Enumerable.Range(0, cores).Select(_ => (new Interpreter(m), new byte[bytes], new int[classes])).ToArray();
        paths.Add(Row("portable", "scalar (shifts and adds)", batch, cores, Time(() =>
            Parallel.For(0, cores, c =>
            {
                var (interpreter, img, sc) = perCore[c];
                for (int s = c; s < batch; s += cores)
                {
                    images.AsSpan(s * bytes, bytes).CopyTo(img);
                    interpreter.Run(img, sc);
                }
            })), limitN));
        progress($"fast, batch {batch} on {cores} cores");
        var batchScores = new int[batch * classes];
        var predictions = new int[batch];
        paths.Add(Row("fast", fast.Kernel.ToString(), batch, cores, Time(() => fast.RunBatch(images, batch, batchScores, predictions)), limitN));

        progress("fast, per layer");
        double fastMs = paths[1].MedianMsPerBatch;
        int repeats = (int)Math.Clamp(budget * 1000 / Math.Max(fastMs, 1e-3), 3, 100_000);
        var times = fast.MeasureLayers(images.AsSpan(0, bytes), repeats);
        // A batch runs 4 samples at a time through each layer on each core (RunBatch): one group of 4, on this thread.
        int group = Math.Min(PopcountBlock.RowBlock, batch);
        var batched = fast.MeasureLayers(images.AsSpan(0, group * bytes), Math.Max(3, repeats / group));
        // Every core at once, each timing its own group as RunBatch spreads a batch: a layer's rate on all cores (the sum
        // of each core's), set against the all-cores limit (issue 17: at least half of it per core on two).
        var coreTimes = new TimeSpan[cores][];
        Parallel.For(0, cores, new ParallelOptions { MaxDegreeOfParallelism = cores },
            c => coreTimes[c] = fast.MeasureLayers(images.AsSpan(0, group * bytes), Math.Max(3, repeats / group)));
        var layers = m.Layers.Select((l, i) =>
        {
            // The first layer adds pixels (FirstConv): its adds are reported as adds, not set against the popcount limit.
            long layerMacs = i == 0 ? 0 : BinaryMacs.Fast(l, i), adds = i == 0 ? firstAdds : 0;
            // The bytes of weights a batch-1 inference reads once: the packed bits (the first layer's masks as FirstConv
            // stores them: a bit or a byte per tap, term and filter, by route), at the L2 rate measured above.
            long weightBytes = l.Kind == LayerKind.MaxPool2D ? 0 : i == 0 ? fast.FirstLayerMaskBytes : (FilterSharing.ComputedFilters(l, i) + 7) / 8 * 8 * (long)l.WeightBits * ((l.KernelH * l.KernelW * (long)l.InC + 63) / 64) * 8;
            double us = times[i].TotalMicroseconds;
            double gmacs = us > 0 ? layerMacs / us / 1e3 : 0, gadds = us > 0 ? adds / us / 1e3 : 0;
            double bus = batched[i].TotalMicroseconds, bgmacs = bus > 0 ? layerMacs / bus / 1e3 : 0;
            double allGmacs = coreTimes.Sum(t => t[i].TotalMicroseconds > 0 ? layerMacs / t[i].TotalMicroseconds / 1e3 : 0);
            return new LayerResult(i, ModelValidator.KindName(l.Kind), $"{l.InH}x{l.InW}x{l.InC} -> {l.OutH}x{l.OutW}x{l.OutC}",
                l.WeightBits, l.InputBits, layerMacs, adds, weightBytes, Math.Round(weightBytes / l2 * 1e6, 3), Math.Round(us, 3), Math.Round(gmacs, 3), Math.Round(gadds, 3),
                Math.Round(gmacs * 1e9 / limit1.BinaryMacsPerSecond, 3),
                Math.Round(bus, 3), Math.Round(bgmacs, 3), Math.Round(bgmacs * 1e9 / limit1.BinaryMacsPerSecond, 3),
                Math.Round(allGmacs, 3), Math.Round(allGmacs * 1e9 / limitN.BinaryMacsPerSecond, 3));
        }).ToList();

        var warnings = new List<string>();
        foreach (var p in paths)
            if (p.RatioToLimit > 1 || p.BestRatioToLimit > 1)
                warnings.Add($"{p.Path} at batch {p.Batch} runs at {p.RatioToLimit:P0} (best run {p.BestRatioToLimit:P0}) of the popcount limit: " +
                             "above 100 %, so the limit is not the machine's or the binary MACs are miscounted");
        foreach (var l in layers.Where(l => l.RatioToLimit > 1 || l.BatchedRatioToLimit > 1))
            warnings.Add($"fast layer {l.Index} runs at {Math.Max(l.RatioToLimit, l.BatchedRatioToLimit):P0} of the 1-core popcount limit: above 100 %, so the limit is not the machine's or the binary MACs are miscounted");
        foreach (var l in layers.Where(l => l.AllCoresRatioToLimit > 1))
            warnings.Add($"fast layer {l.Index} runs at {l.AllCoresRatioToLimit:P0} of the {cores}-core popcount limit on {cores} cores: above 100 %, so the limit is not the machine's or the binary MACs are miscounted");

        static Limit LimitOf(PopcountLimit.Result r) => new(r.Threads, Math.Round(r.BinaryMacsPerSecond / 1e9, 2), r.Kernel,
            r.Kernels.Select(k => new KernelLimit(k.Kernel, Math.Round(k.BinaryMacsPerSecond / 1e9, 2))).ToList());
        return new Result(path, $"{m.ModelId:x16}", Machine.CpuModel(), cores, DateTime.UtcNow, inputs, macs, fastMacs, firstAdds, Math.Round(l2 / 1e9, 1),
            LimitOf(limit1), LimitOf(limitN), paths, layers, warnings);
    }

    private static void Render(Result r)
    {
        var console = Cli.Out;
        console.MarkupLine($"[dim]{Markup.Escape(r.Machine)}, {r.LogicalCores} logical cores, {r.UtcDate:yyyy-MM-dd HH:mm} UTC; inputs: {Markup.Escape(r.Inputs)}[/]");
        console.MarkupLine($"{Markup.Escape(r.Model)} ({r.ModelId}): per sample, portable {r.BinaryMacsPerSample:N0} binary MACs (every layer counted as bit-planes; its first layer adds lit pixel bytes); " +
                           $"fast {r.FastBinaryMacsPerSample:N0} binary MACs (XNOR-popcount layers) + {r.FastFirstLayerAddsPerSample:N0} first-layer masked adds (not counted as MACs)");
        var kernels = new Table().Title($"popcount limit: every kernel, {PopcountLimit.Rows} rows x {PopcountLimit.Blocks * PopcountBlock.BlockFilters} filters x {PopcountLimit.Words * 64} bits in L1 (best 16-call chunk)")
            .AddColumn("kernel").AddColumn(new TableColumn("1 core GMAC/s").RightAligned())
            .AddColumn(new TableColumn($"{r.AllCoresLimit.Threads} cores GMAC/s").RightAligned());
        foreach (var k in r.SingleCoreLimit.Kernels)
        {
            var all = r.AllCoresLimit.Kernels.FirstOrDefault(a => a.Kernel == k.Kernel);
            bool best = k.Kernel == r.SingleCoreLimit.Kernel;
            kernels.AddRow((best ? "[bold]" : "") + Markup.Escape(k.Kernel) + (best ? " (the limit)[/]" : ""), k.BinaryGmacsPerSecond.ToString("F1"),
                all == null ? "-" : all.BinaryGmacsPerSecond.ToString("F1"));
        }
        console.Write(kernels);
        console.MarkupLine($"popcount limit: [bold]{r.SingleCoreLimit.BinaryGmacsPerSecond:F1}[/] binary GMAC/s on 1 core ({Markup.Escape(r.SingleCoreLimit.Kernel)}), " +
                           $"[bold]{r.AllCoresLimit.BinaryGmacsPerSecond:F1}[/] on {r.AllCoresLimit.Threads} cores ({Markup.Escape(r.AllCoresLimit.Kernel)})");
        var table = new Table().Title("per sample: median run (best run)")
            .AddColumn("path").AddColumn("kernel").AddColumn(new TableColumn("batch").RightAligned()).AddColumn(new TableColumn("threads").RightAligned())
            .AddColumn(new TableColumn("µs / sample").RightAligned()).AddColumn(new TableColumn("samples/s").RightAligned())
            .AddColumn(new TableColumn("binary GMAC/s").RightAligned()).AddColumn(new TableColumn("of limit").RightAligned());
        foreach (var p in r.Paths)
            table.AddRow(p.Path, Markup.Escape(p.Kernel), p.Batch.ToString(), p.Threads.ToString(),
                $"{p.MicrosecondsPerSample:N1} ({p.BestMicrosecondsPerSample:N1})", p.SamplesPerSecond.ToString("N0"), p.BinaryGmacsPerSecond.ToString("F2"),
                $"{p.RatioToLimit:P0} ({p.BestRatioToLimit:P0})");
        console.Write(table);
        console.MarkupLine($"L2 read bandwidth (512 KB, 64-byte loads, 1 core): [bold]{r.L2ReadGBytesPerSecond:F1}[/] GB/s; a batch-1 layer cannot beat its weight bytes at that rate (the L2 bound column)");
        var layers = new Table().Title("fast path per layer, 1 core (median): batch 1, and per sample of a batch (4 samples per weight load, as RunBatch runs on each core)")
            .AddColumn(new TableColumn("#").RightAligned()).AddColumn("kind").AddColumn("shape").AddColumn("m x k")
            .AddColumn(new TableColumn("binary MACs").RightAligned()).AddColumn(new TableColumn("L2 bound µs").RightAligned()).AddColumn(new TableColumn("µs").RightAligned())
            .AddColumn(new TableColumn("binary GMAC/s").RightAligned()).AddColumn(new TableColumn("of 1-core limit").RightAligned())
            .AddColumn(new TableColumn("batched µs").RightAligned()).AddColumn(new TableColumn("binary GMAC/s").RightAligned())
            .AddColumn(new TableColumn("of 1-core limit").RightAligned())
            .AddColumn(new TableColumn($"batched, {r.AllCoresLimit.Threads} cores at once: GMAC/s (of {r.AllCoresLimit.Threads}-core limit)").RightAligned());
        foreach (var l in r.FastLayers)
        {
            if (l.Adds > 0)
            {
                layers.AddRow(l.Index.ToString(), l.Kind, Markup.Escape(l.Shape), $"{l.WeightBits} x 8-bit pixels",
                    $"{l.Adds:N0} adds", l.L2BoundMicroseconds.ToString("N2"), l.Microseconds.ToString("N1"), $"{l.GaddsPerSecond:F2} Gadd/s", "- (adds)", l.BatchedMicroseconds.ToString("N1"), "-", "- (adds)", "- (adds)");
                continue;
            }
            layers.AddRow(l.Index.ToString(), l.Kind, Markup.Escape(l.Shape), l.BinaryMacs == 0 ? "-" : $"{l.WeightBits} x {l.InputBits}",
                l.BinaryMacs.ToString("N0"), l.BinaryMacs == 0 ? "-" : l.L2BoundMicroseconds.ToString("N2"), l.Microseconds.ToString("N1"), l.BinaryMacs == 0 ? "-" : l.BinaryGmacsPerSecond.ToString("F2"),
                l.BinaryMacs == 0 ? "-" : l.RatioToLimit.ToString("P0"), l.BatchedMicroseconds.ToString("N1"),
                l.BinaryMacs == 0 ? "-" : l.BatchedBinaryGmacsPerSecond.ToString("F2"), l.BinaryMacs == 0 ? "-" : l.BatchedRatioToLimit.ToString("P0"),
                l.BinaryMacs == 0 ? "-" : $"{l.AllCoresBinaryGmacsPerSecond:F1} ({l.AllCoresRatioToLimit:P0})");
        }
        console.Write(layers);
    }

    public sealed record SequencePath(string Path, string Kernel, int Sequences, long Tokens, double Seconds, double TokensPerSecond, double MicrosecondsPerToken);

    public sealed record SequenceResult(string Model, string ModelId, string Machine, int LogicalCores, DateTime UtcDate, long FileBytes,
        long MacsPerToken, string Inputs, IReadOnlyList<SequencePath> Paths);

    /// <summary>
    /// A sequence model (SPEC 1.10): tokens per second of the portable interpreter and the fast path stepping one
    /// sequence (each token waits for the last: generation), and of the fast path stepping <paramref name="batch"/>
    /// sequences together; random tokens, each run for about <paramref name="budget"/> seconds on one thread.
    /// </summary>
    private static int BenchSequences(QnnModel m, string path, int batch, double budget, bool json)
    {
        int vocabulary = m.Layers[0].InC;
        var rng = new Random(1);
        var tokens = Enumerable.Range(0, 4096).Select(_ => rng.Next(vocabulary)).ToArray();
        var scores = new int[batch * m.ClassCount];
        var paths = new List<SequencePath>();
        SequencePath Measure(string name, string kernel, int sequences, Action<int> step)
        {
            for (int i = 0; i < 3; i++) step(i);   // warm up: JIT and caches
            long steps = 0;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < budget) step((int)(steps++ & 4095));
            double seconds = clock.Elapsed.TotalSeconds, count = (double)steps * sequences;
            return new SequencePath(name, kernel, sequences, (long)count, Math.Round(seconds, 3), Math.Round(count / seconds, 1), Math.Round(seconds * 1e6 / count, 1));
        }
        var portable = new SequenceInterpreter(m);
        paths.Add(Measure("portable", "bitwise (SWAR popcount)", 1, i => portable.Step(tokens[i], scores)));
        var fast = new FastSequenceInterpreter(m);
        paths.Add(Measure("fast", fast.Kernel.ToString(), 1, i => fast.Step(tokens[i], scores)));
        if (batch > 1)
        {
            var batched = new FastSequenceInterpreter(m, batch);
            var step = new int[batch];
            paths.Add(Measure("fast", batched.Kernel.ToString(), batch, i =>
            {
                for (int s = 0; s < batch; s++) step[s] = tokens[(i + 97 * s) & 4095];
                batched.Step(step, scores);
            }));
        }
        var result = new SequenceResult(path, $"{m.ModelId:x16}", System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture + " " + Environment.MachineName,
            Environment.ProcessorCount, DateTime.UtcNow, new FileInfo(path).Length, m.Layers.Sum(l => l.Macs), "random tokens (seed 1)", paths);
        if (json) { Cli.PrintJson(result); return 0; }
        var console = Cli.Out;
        console.MarkupLine(Markup.Escape($"{path} (model id {result.ModelId}): {result.FileBytes:N0} bytes, {result.MacsPerToken:N0} MACs per token, {result.Inputs}, one thread"));
        var table = new Table().AddColumns("path", "kernel", "sequences", "tokens", "tokens/s", "µs/token");
        foreach (var p in paths)
            table.AddRow(p.Path, p.Kernel, p.Sequences.ToString(), p.Tokens.ToString("N0"), p.TokensPerSecond.ToString("N0"), p.MicrosecondsPerToken.ToString("0.#"));
        console.Write(table);
        return 0;
    }
}
