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
/// N of the portable interpreter and the fast path, in binary MACs per second (weight bits × activation bits × MACs)
/// and as a share of the popcount limit (<see cref="PopcountLimit"/>) measured in the same run on the same machine.
/// </summary>
public static class BenchEdgeCommand
{
    public sealed record Limit(int Threads, double BinaryGmacsPerSecond);

    /// <summary>One path at one batch size; figures per sample from the median run, and from the best run (Best*).</summary>
    public sealed record PathResult(string Path, string Kernel, int Batch, int Threads, double MedianMsPerBatch, double MinMsPerBatch, int Runs,
        double MicrosecondsPerSample, double SamplesPerSecond, double BinaryGmacsPerSecond, double RatioToLimit,
        double BestMicrosecondsPerSample, double BestRatioToLimit);

    public sealed record LayerResult(int Index, string Kind, string Shape, int WeightBits, int InputBits, long BinaryMacs,
        double Microseconds, double BinaryGmacsPerSecond, double RatioToLimit);

    public sealed record Result(string Model, string ModelId, string Machine, int LogicalCores, DateTime UtcDate, string Inputs,
        long BinaryMacsPerSample, Limit SingleCoreLimit, Limit AllCoresLimit, IReadOnlyList<PathResult> Paths, IReadOnlyList<LayerResult> FastLayers);

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
            var (images, inputs) = Inputs(m, n, parse.GetValue(dataset));
            var result = Cli.Err.Status().Start("measuring", ctx => Measure(m, path, images, inputs, n, budget, s => ctx.Status(Markup.Escape(s))));
            if (parse.GetValue(json)) Cli.PrintJson(result);
            else Render(result);
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
        long macs = BinaryMacs.Of(m);
        var limitTime = TimeSpan.FromSeconds(Math.Min(budget, 1.0));
        progress($"popcount limit, 1 core");
        var limit1 = PopcountLimit.Measure(limitTime, 1);
        progress($"popcount limit, {cores} cores");
        var limitN = PopcountLimit.Measure(limitTime, cores);

        var paths = new List<PathResult>();
        PathResult Row(string name, string kernel, int size, int threads, Timing t, PopcountLimit.Result limit)
        {
            double perSample = t.MedianMs / size, best = t.MinMs / size;
            double gmacs = macs / (perSample / 1000) / 1e9, bestGmacs = macs / (best / 1000) / 1e9;
            return new PathResult(name, kernel, size, threads, Math.Round(t.MedianMs, 4), Math.Round(t.MinMs, 4), t.Runs,
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
        var layers = m.Layers.Select((l, i) =>
        {
            long layerMacs = BinaryMacs.Of(l);
            double us = times[i].TotalMicroseconds;
            double gmacs = us > 0 ? layerMacs / us / 1e3 : 0;
            return new LayerResult(i, ModelValidator.KindName(l.Kind), $"{l.InH}x{l.InW}x{l.InC} -> {l.OutH}x{l.OutW}x{l.OutC}",
                l.WeightBits, l.InputBits, layerMacs, Math.Round(us, 2), Math.Round(gmacs, 3), Math.Round(gmacs * 1e9 / limit1.BinaryMacsPerSecond, 3));
        }).ToList();

        return new Result(path, $"{m.ModelId:x16}", Machine.CpuModel(), cores, DateTime.UtcNow, inputs, macs,
            new Limit(1, Math.Round(limit1.BinaryMacsPerSecond / 1e9, 2)), new Limit(cores, Math.Round(limitN.BinaryMacsPerSecond / 1e9, 2)),
            paths, layers);
    }

    private static void Render(Result r)
    {
        var console = Cli.Out;
        console.MarkupLine($"[dim]{Markup.Escape(r.Machine)}, {r.LogicalCores} logical cores, {r.UtcDate:yyyy-MM-dd HH:mm} UTC; inputs: {Markup.Escape(r.Inputs)}[/]");
        console.MarkupLine($"{Markup.Escape(r.Model)} ({r.ModelId}): {r.BinaryMacsPerSample:N0} binary MACs per sample");
        console.MarkupLine($"popcount limit (XOR + PopCount over 64-bit words in L1): [bold]{r.SingleCoreLimit.BinaryGmacsPerSecond:F1}[/] binary GMAC/s on 1 core, " +
                           $"[bold]{r.AllCoresLimit.BinaryGmacsPerSecond:F1}[/] on {r.AllCoresLimit.Threads} cores");
        var table = new Table().Title("per sample: median run (best run)")
            .AddColumn("path").AddColumn("kernel").AddColumn(new TableColumn("batch").RightAligned()).AddColumn(new TableColumn("threads").RightAligned())
            .AddColumn(new TableColumn("µs / sample").RightAligned()).AddColumn(new TableColumn("samples/s").RightAligned())
            .AddColumn(new TableColumn("binary GMAC/s").RightAligned()).AddColumn(new TableColumn("of limit").RightAligned());
        foreach (var p in r.Paths)
            table.AddRow(p.Path, Markup.Escape(p.Kernel), p.Batch.ToString(), p.Threads.ToString(),
                $"{p.MicrosecondsPerSample:N1} ({p.BestMicrosecondsPerSample:N1})", p.SamplesPerSecond.ToString("N0"), p.BinaryGmacsPerSecond.ToString("F2"),
                $"{p.RatioToLimit:P0} ({p.BestRatioToLimit:P0})");
        console.Write(table);
        var layers = new Table().Title("fast path per layer, batch 1, 1 core (median)")
            .AddColumn(new TableColumn("#").RightAligned()).AddColumn("kind").AddColumn("shape").AddColumn("m x k")
            .AddColumn(new TableColumn("binary MACs").RightAligned()).AddColumn(new TableColumn("µs").RightAligned())
            .AddColumn(new TableColumn("binary GMAC/s").RightAligned()).AddColumn(new TableColumn("of 1-core limit").RightAligned());
        foreach (var l in r.FastLayers)
            layers.AddRow(l.Index.ToString(), l.Kind, Markup.Escape(l.Shape), l.BinaryMacs == 0 ? "-" : $"{l.WeightBits} x {l.InputBits}",
                l.BinaryMacs.ToString("N0"), l.Microseconds.ToString("N1"), l.BinaryMacs == 0 ? "-" : l.BinaryGmacsPerSecond.ToString("F2"),
                l.BinaryMacs == 0 ? "-" : l.RatioToLimit.ToString("P0"));
        console.Write(layers);
    }
}
