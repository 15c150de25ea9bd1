using System.CommandLine;
using Qnn.Datasets;
using Qnn.Format;
using Qnn.Verification;
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
        var dataset = DatasetSource.Option("; the test split is used, an image folder converted to the model's input shape");
        var runtimes = new Option<string>("--runtimes") { Description = "Comma-separated runtimes; the first is the reference: portable, fast, gpu, onnx (the exported graph in ONNX Runtime; scores only).", DefaultValueFactory = _ => "portable,fast,gpu" };
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
            if (m.Layers[0].Kind == LayerKind.Embedding)
                return VerifySequences(m, path, parse.GetValue(dataset)!, parse.GetValue(runtimes)!, parse.GetValue(limit), parse.GetValue(layers),
                    parse.GetValue(json), parse.GetValue(accelerator)!);
            Dataset data = Verifier.TestSplit(parse.GetValue(dataset)!, m, path, parse.GetValue(limit), DatasetSource.Progress);
            string[] names = parse.GetValue(runtimes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (names.Length == 0) throw new UserError("--runtimes names no runtime");
            using RuntimeSet opened = Open(m, names, parse.GetValue(accelerator)!, parse.GetValue(kernel)!);
            bool asJson = parse.GetValue(json);
            VerifyReport report = asJson || data.Count < 1000
                ? Verifier.Verify(m, path, data, opened.Runtimes, parse.GetValue(layers), null)
                : Cli.Err.Progress().Start(ctx =>
                {
                    var task = ctx.AddTask($"verifying {data.Count} samples", maxValue: data.Count);
                    return Verifier.Verify(m, path, data, opened.Runtimes, parse.GetValue(layers), done => task.Value = done);
                });
            if (asJson) Cli.PrintJson(report);
            else Render(report, Cli.Out);
            return ExitCode(report);
        }));
        return command;
    }

    /// <summary>
    /// A sequence model (SPEC 1.10): the test split of a text corpus (brown, ptb:PATH, text:PATH) as one token stream,
    /// state carried from the first token to the last (--limit N: the first N tokens), every step's scores compared.
    /// </summary>
    private static int VerifySequences(QnnModel m, string path, string dataset, string runtimes, int limit, bool layers, bool asJson, string accelerator)
    {
        if (layers) throw new UserError("--layers: a sequence model's verify compares every step's scores, not layer outputs");
        if (!TextCorpusLoader.IsText(dataset)) throw new UserError($"--dataset {dataset}: {path} is a sequence model; use {TextCorpusLoader.Forms}");
        string[] names = runtimes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (names.Length == 0) throw new UserError("--runtimes names no runtime");
        int[] tokens = SequenceVerifier.TestTokens(TextCorpusLoader.Load(dataset), m, path, limit);
        var opened = SequenceRuntime.Open(m, names, accelerator, warning => Console.Error.WriteLine($"qnn: {warning}"));
        try
        {
            VerifyReport report = SequenceVerifier.Verify(m, path, dataset, tokens, opened);
            if (asJson) Cli.PrintJson(report);
            else
            {
                Render(report, Cli.Out);
                Cli.Out.MarkupLine($"(a sample is a step: {report.Samples} tokens of the test split stepped as one sequence, the state carried; accuracy: the next token predicted)");
            }
            return ExitCode(report);
        }
        finally
        {
            foreach (var r in opened) r.Dispose();
        }
    }

    /// <summary>The exit code of a report: 0 when every runtime matched the reference, 1 on any mismatch.</summary>
    public static int ExitCode(VerifyReport report) => report.Match ? 0 : 1;

    /// <summary>The runtimes named on the command line (Qnn.Verification), their warnings as "qnn: ..." lines.</summary>
    public static RuntimeSet Open(QnnModel m, IEnumerable<string> names, string accelerator, string kernel) =>
        new(m, names, accelerator, kernel, warning => Console.Error.WriteLine($"qnn: {warning}"));

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
}
