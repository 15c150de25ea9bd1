using System.CommandLine;
using Qnn.Datasets;
using Qnn.Format;
using Spectre.Console;

using Qnn.Verification;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn quickstart`: the whole loop in one command. Fetches MNIST (the data verb), trains and exports a model (the
/// train verb, in-process), then runs it on the portable, fast and GPU runtimes over the test set through verify's
/// engine and prints one summary: accuracy, model bytes, whether every runtime gave identical integers, and the
/// time per sample on each runtime.
/// </summary>
public static class QuickstartCommand
{
    public sealed record RuntimeTime(string Runtime, double MicrosecondsPerSample, double Accuracy, int Mismatches);
    public sealed record Summary(string Model, string ModelId, string Arch, int Epochs, long ModelBytes, int TestSamples, double TestAccuracy,
        bool Match, string MatchText, IReadOnlyList<RuntimeTime> Runtimes, string? AcceleratorNotice);

    public static Command Create()
    {
        var arch = new Option<string>("--arch") { Description = "Architecture to train (see `qnn train --help`).", DefaultValueFactory = _ => "mlp-micro" };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => 3 };
        var output = new Option<string>("--out") { Description = "The .qnn model to write.", DefaultValueFactory = _ => "quickstart.qnn" };
        var limit = new Option<int>("--limit") { Description = $"Run and compare only the first N test images: {Cli.Limit.Text}." };
        var accelerator = new Option<string>("--accelerator") { Description = "GPU runtime: cuda, opencl, cpu or auto.", DefaultValueFactory = _ => "auto" };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON (the steps' own output goes to stderr)." };
        var command = new Command("quickstart", "The whole loop: fetch MNIST, train, export, run on every runtime, verify, one summary.");
        foreach (Option o in new Option[] { arch, epochs, output, limit, accelerator, json }) command.Options.Add(o);
        command.SetAction(parse => Cli.Run("quickstart", () =>
        {
            bool asJson = parse.GetValue(json);
            string path = parse.GetValue(output)!;
            string archName = parse.GetValue(arch)!;
            int epochCount = parse.GetValue(epochs);
            Cli.Check(Cli.Limit, parse.GetValue(limit));
            Cli.Check(Qnn.Trainer.Training.TrainOptions.Ranges.Epochs, epochCount);

            // The files `qnn train` will write, checked before the fetch and the training.
            OutputFile.CheckAll([("--out", path), ("the checkpoint", path + ".ckpt"), ("the log", path + ".log.csv"), ("the plot", path + ".png")], []);
            Heading(asJson, "1/4 MNIST");
            int rc = Verb(asJson, ["data", "fetch", "mnist"]);
            if (rc != 0) return rc;
            Heading(asJson, $"2/4 train {archName} for {epochCount} epochs and export {path}");
            rc = Verb(asJson, ["train", "--arch", archName, "--epochs", epochCount.ToString(), "--out", path]);
            if (rc != 0) return rc;

            Heading(asJson, "3/4 run on the portable, fast and GPU runtimes and compare every score");
            QnnModel model = ModelFile.Load(path);
            Dataset test = Verifier.TestSplit("mnist", model, path, parse.GetValue(limit));
            using var runtimes = VerifyCommand.Open(model, ["portable", "fast", "gpu"], parse.GetValue(accelerator)!, "auto");
            var report = Cli.Err.Progress().Start(ctx =>
            {
                var task = ctx.AddTask($"running {test.Count} test images on 3 runtimes", maxValue: test.Count);
                return Verifier.Verify(model, path, test, runtimes.Runtimes, false, done => task.Value = done);
            });

            Heading(asJson, "4/4 summary");
            var summary = new Summary(path, $"{model.ModelId:x16}", archName, epochCount, new FileInfo(path).Length, report.Samples,
                report.Runtimes[0].Accuracy, report.Match,
                report.Match ? $"{report.Samples} of {report.Samples} identical" : $"MISMATCH: {report.Runtimes.Sum(r => r.Mismatches)} samples differ",
                report.Runtimes.Select(r => new RuntimeTime(r.Runtime, r.MicrosecondsPerSample, r.Accuracy, r.Mismatches)).ToArray(),
                runtimes.Notice);
            if (asJson) Cli.PrintJson(summary);
            else Render(summary, Cli.Out);
            return VerifyCommand.ExitCode(report);
        }));
        return command;
    }

    /// <summary>Runs another verb in-process; with --json its output goes to stderr so stdout holds only the summary.</summary>
    private static int Verb(bool toStderr, string[] args)
    {
        TextWriter stdout = Console.Out;
        if (toStderr) Console.SetOut(Console.Error);
        try { return Program.BuildRoot().Parse(args).Invoke(); }
        finally { Console.SetOut(stdout); }
    }

    private static void Heading(bool toStderr, string text) => (toStderr ? Cli.Err : Cli.Out).MarkupLine($"[bold blue]qnn quickstart[/] {Markup.Escape(text)}");

    public static void Render(Summary s, IAnsiConsole console)
    {
        var t = new Table().AddColumns("", "");
        t.AddRow("model", $"{Markup.Escape(s.Model)} ({s.Arch}, {s.Epochs} epoch{(s.Epochs == 1 ? "" : "s")}, model id {s.ModelId})");
        t.AddRow("model bytes", $"{s.ModelBytes:N0}");
        t.AddRow("test accuracy", $"{s.TestAccuracy:P2} on {s.TestSamples:N0} MNIST test images (the deployed integer model)");
        t.AddRow("match", s.Match ? $"[green]{s.MatchText}[/] (every class score, portable = fast = GPU)" : $"[red]{Markup.Escape(s.MatchText)}[/]");
        foreach (RuntimeTime r in s.Runtimes)
            t.AddRow($"time per sample, {Markup.Escape(r.Runtime)}", $"{r.MicrosecondsPerSample:N1} µs");
        console.Write(t);
        if (s.AcceleratorNotice is { } n) console.MarkupLine($"[yellow]note[/]: {Markup.Escape(n)}");
        console.MarkupLine($"next: [bold]./qnn inspect {Markup.Escape(s.Model)}[/], [bold]./qnn verify {Markup.Escape(s.Model)} --layers[/], [bold]./qnn bench gpu {Markup.Escape(s.Model)}[/]");
    }
}
