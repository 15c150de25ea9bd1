using System.CommandLine;
using Qnn.Benchmarks;
using Spectre.Console;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn bench cpu [--json]`: the trainer CPU backend's GEMM (Qnn.Trainer.Backends.CpuGemm) in GFLOP/s next to
/// ONNX Runtime's Gemm on the same operands, shapes and transposes (the trainer's, GemmShapes.Training), with B packed
/// once (an initializer) and every run (an input, as the trainer's weights), all on every core, timed in turns.
/// </summary>
public static class BenchCpuCommand
{
    public sealed record Result(string Machine, int LogicalCores, string OnnxRuntime, DateTime UtcDate, IReadOnlyList<GemmRow> Shapes);

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the measurements as JSON." };
        var seconds = new Option<double>("--seconds") { Description = "Time budget of each shape, all three GEMMs in five turns each, in seconds.", DefaultValueFactory = _ => 2.0 };
        var command = new Command("cpu", "Trainer CPU backend GEMM GFLOP/s next to ONNX Runtime Gemm on the trainer's shapes.");
        command.Options.Add(json);
        command.Options.Add(seconds);
        command.SetAction(parse => Cli.Run("bench cpu", () =>
        {
            double budget = parse.GetValue(seconds);
            if (!(budget > 0 && budget <= 600)) throw new UserError("--seconds must be above 0 and at most 600");
            var rows = Cli.Err.Status().Start("measuring", ctx => GemmShapes.Training.Select(s =>
            {
                ctx.Status(Markup.Escape(s.Name));
                return GemmComparison.TrainerCpu(s, budget);
            }).ToList());
            var result = new Result(Machine.CpuModel(), Environment.ProcessorCount, Machine.OnnxRuntimeVersion(), DateTime.UtcNow, rows);
            if (parse.GetValue(json)) { Cli.PrintJson(result); return 0; }
            var console = Cli.Out;
            console.MarkupLine($"[dim]{Markup.Escape(result.Machine)}, {result.LogicalCores} logical cores, ONNX Runtime {Markup.Escape(result.OnnxRuntime)}, {result.UtcDate:yyyy-MM-dd HH:mm} UTC[/]");
            var table = new Table().Title($"float32 GEMM, {Environment.ProcessorCount} threads each, 5 turns each (median); ORT's B packed once (initializer) or every run (input)")
                .AddColumn("shape").AddColumn("M x N x K").AddColumn("op").AddColumn(new TableColumn("CpuGemm GFLOP/s").RightAligned())
                .AddColumn(new TableColumn("ORT, B packed once").RightAligned()).AddColumn(new TableColumn("CpuGemm / ORT").RightAligned())
                .AddColumn(new TableColumn("ORT, B packed every run").RightAligned()).AddColumn(new TableColumn("CpuGemm / ORT").RightAligned())
                .AddColumn(new TableColumn("max |diff|").RightAligned());
            foreach (var r in rows)
                table.AddRow(Markup.Escape(r.Shape), $"{r.M}x{r.N}x{r.K}", r.Transposes, r.OursGops.ToString("F1"), r.OrtGflops.ToString("F1"), $"{r.Speedup:F2}x",
                    r.OrtInputGflops.ToString("F1"), $"{r.SpeedupInput:F2}x", r.MaxAbsDifference.ToString("G3"));
            console.Write(table);
            return 0;
        }));
        return command;
    }
}
