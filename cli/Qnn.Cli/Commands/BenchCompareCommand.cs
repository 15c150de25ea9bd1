using System.CommandLine;
using Qnn.Benchmarks;
using Qnn.Datasets;
using Qnn.Format;
using Spectre.Console;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn bench compare MODEL [--json]`: the fast edge path, the portable core and ONNX Runtime (the float network of
/// the same shape, and the exported integer graph) at batch 1 and 256, then binary GEMM against ONNX Runtime MatMul
/// on the papers' layer shapes; all measured in this one run, printed as ratios (bench/Qnn.Benchmarks.Core).
/// </summary>
public static class BenchCompareCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The .qnn model (e.g. one written by `qnn train`)." };
        var json = new Option<bool>("--json") { Description = "Print every measurement as JSON." };
        var seconds = new Option<double>("--seconds") { Description = "Time budget of each measurement, in seconds.", DefaultValueFactory = _ => 2.0 };
        var noGemm = new Option<bool>("--no-gemm") { Description = "Skip binary GEMM against ONNX Runtime MatMul." };
        var command = new Command("compare", "Edge runtime against ONNX Runtime on the same network: latency, throughput, memory, model bytes, as ratios.");
        command.Arguments.Add(model);
        command.Options.Add(json);
        command.Options.Add(seconds);
        command.Options.Add(noGemm);
        command.SetAction(parse => Cli.Run("bench compare", () =>
        {
            string path = parse.GetValue(model)!;
            double budget = parse.GetValue(seconds);
            if (!(budget > 0 && budget <= 600)) throw new UserError("--seconds must be above 0 and at most 600");
            QnnModel m = ModelFile.Load(path, out byte[] bytes);
            var (images, source) = Images(m);
            PeerResult result = Cli.Err.Status().Start("measuring", ctx =>
                PeerComparison.Run(path, bytes, images, source, budget, !parse.GetValue(noGemm), step => ctx.Status(Markup.Escape(step))));
            if (parse.GetValue(json)) Cli.PrintJson(result);
            else Render(result, Cli.Out);
            return 0;
        }));
        return command;
    }

    /// <summary>256 MNIST test images when the model takes 784 pixels (28×28×1, or 1×1×784 as `qnn train` exports an MLP)
    /// and MNIST is cached, else seeded random pixels.</summary>
    private static (byte[] Images, string Source) Images(QnnModel m)
    {
        int size = m.InputHeight * m.InputWidth * m.InputChannels, n = PeerComparison.LargeBatch;
        if (size == 784)
        {
            try
            {
                var test = DatasetLoader.Load("mnist").Test;
                if (test.Count >= n) return (test.Pixels[..(n * size)], $"the first {n} MNIST test images");
            }
            catch (IOException) { } // not cached (IdxFormatException is an IOException): random pixels time the same arithmetic
        }
        var images = new byte[n * size];
        new Random(1).NextBytes(images);
        return (images, $"{n} random images (seed 1)");
    }

    public static void Render(PeerResult r, IAnsiConsole console)
    {
        console.MarkupLine($"[bold]{Markup.Escape(r.Model)}[/]: input {string.Join("x", r.Input)}, {r.Classes} classes; {Markup.Escape(r.Images)}");
        console.MarkupLine($"[dim]{Markup.Escape(r.Machine)}, {r.LogicalCores} logical cores, {Markup.Escape(r.Runtime)}, ONNX Runtime {Markup.Escape(r.OnnxRuntime)}, fast kernel {r.FastKernel}, {r.UtcDate:yyyy-MM-dd HH:mm} UTC[/]");
        var engines = new Table().Title("engines (median of each call)")
            .AddColumn("engine").AddColumn(new TableColumn("batch").RightAligned()).AddColumn(new TableColumn("threads").RightAligned())
            .AddColumn(new TableColumn("latency µs").RightAligned()).AddColumn(new TableColumn("images/s").RightAligned())
            .AddColumn(new TableColumn("peak RSS +MiB").RightAligned()).AddColumn(new TableColumn("GC alloc MiB").RightAligned())
            .AddColumn(new TableColumn("runs").RightAligned());
        foreach (var e in r.Engines)
            engines.AddRow(Markup.Escape(e.Engine), e.Batch.ToString(), e.Threads.ToString(), Micros(e.LatencyMs), e.ImagesPerSecond.ToString("N0"),
                Mib(e.Memory.RssIncreaseBytes), Mib(e.Memory.ManagedAllocatedBytes), e.Runs.ToString());
        console.Write(engines);
        console.MarkupLine($"model bytes: .qnn {r.QnnBytes:N0}; float .onnx {r.FloatOnnxBytes:N0} ({r.FloatParameters:N0} float parameters)" +
                           (r.ExportedOnnxBytes is { } x ? $"; exported integer .onnx {x:N0}" : ""));
        if (r.ExportNote != null) console.MarkupLine($"[yellow]not exported to ONNX:[/] {Markup.Escape(r.ExportNote)}");
        if (!r.PerPhasePeakMemory) console.MarkupLine("[yellow]peak memory is a lower bound here (no per-phase peak on this OS)[/]");
        if (r.Gemm.Count > 0)
        {
            var gemm = new Table().Title($"binary GEMM ({Markup.Escape(r.Gemm[0].Kernel)}) vs ONNX Runtime MatMul (float32), {r.Gemm[0].Threads} threads each")
                .AddColumn("shape").AddColumn("M x N x K").AddColumn(new TableColumn("ours µs").RightAligned()).AddColumn(new TableColumn("ORT µs").RightAligned())
                .AddColumn(new TableColumn("ours Gop/s").RightAligned()).AddColumn(new TableColumn("ORT GFLOP/s").RightAligned())
                .AddColumn(new TableColumn("speedup").RightAligned()).AddColumn(new TableColumn("max |diff|").RightAligned());
            foreach (var g in r.Gemm)
                gemm.AddRow(Markup.Escape(g.Shape), $"{g.M}x{g.N}x{g.K}", Micros(g.OursMs), Micros(g.OrtMs), g.OursGops.ToString("F1"),
                    g.OrtGflops.ToString("F1"), $"{g.Speedup:F1}x", g.MaxAbsDifference.ToString());
            console.Write(gemm);
        }
        var ratios = new Table().Title("ratios").AddColumn("").AddColumn(new TableColumn("").RightAligned());
        foreach (var (name, value) in r.Ratios) ratios.AddRow(Markup.Escape(name), value.ToString("G3"));
        console.Write(ratios);
    }

    /// <summary>
    /// A time in µs with one decimal: the fast path's batch-1 call takes tens of µs, and the latency ratio below is only
    /// checkable by eye when both latencies it divides are printed to three or more digits.
    /// </summary>
    private static string Micros(double ms) => (ms * 1000).ToString("N1");

    private static string Mib(long bytes) => (bytes / 1048576.0).ToString("F1");
}
