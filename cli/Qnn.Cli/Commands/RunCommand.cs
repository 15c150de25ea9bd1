using System.CommandLine;
using System.Diagnostics;
using Qnn.Format;
using Qnn.Runtime.Edge;
using Qnn.Runtime.Edge.Fast;
using Qnn.Runtime.Edge.Imaging;
using Spectre.Console;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn run MODEL --input FILE [--runtime portable|fast] [--json]`: classifies one image (PNG, JPEG, PGM/PBM/PPM,
/// BMP, or raw H·W·C bytes) with the edge runtime, converted as the model's header says (<see cref="ImageInput"/>).
/// </summary>
public static class RunCommand
{
    public sealed record Result(string Model, string Input, string InputKind, string Runtime, int Class, string? Label,
        int[] Scores, double InferenceMicroseconds);

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The .qnn model file." };
        var input = new Option<string>("--input") { Description = "Image file (PNG, JPEG, PGM/PBM/PPM, BMP) or raw H*W*C bytes.", Required = true };
        var runtime = new Option<string>("--runtime") { Description = "portable (the bitwise reference interpreter) or fast (the .NET fast path).", DefaultValueFactory = _ => "fast" };
        runtime.AcceptOnlyFromAmong("portable", "fast");
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("run", "Classify an image with the edge runtime: class, scores, time.");
        command.Arguments.Add(model);
        command.Options.Add(input);
        command.Options.Add(runtime);
        command.Options.Add(json);
        command.SetAction(parse => Cli.Run("run", () =>
        {
            string modelPath = parse.GetValue(model)!, inputPath = parse.GetValue(input)!, which = parse.GetValue(runtime)!;
            QnnModel m = ModelFile.Load(modelPath);
            byte[] pixels = ImageInput.Load(inputPath, m, modelPath, out var kind);
            var result = Classify(m, pixels, which) with { Model = modelPath, Input = inputPath, InputKind = kind == ImageInput.Source.Raw ? "raw" : "image" };
            if (parse.GetValue(json)) Cli.PrintJson(result);
            else Render(result, m.Labels);
            return 0;
        }));
        return command;
    }

    /// <summary>Runs once to warm up (JIT, buffers), then times a second run of the same input.</summary>
    public static Result Classify(QnnModel m, byte[] pixels, string runtime)
    {
        var scores = new int[m.ClassCount];
        Func<int> run;
        if (runtime == "portable")
        {
            var interpreter = new Interpreter(m);
            run = () => interpreter.Run(pixels, scores);
        }
        else
        {
            var fast = new FastInterpreter(m);
            run = () => fast.Run(pixels, scores);
        }
        run();
        long start = Stopwatch.GetTimestamp();
        int predicted = run();
        double micros = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        return new Result("", "", "", runtime, predicted, m.Labels?[predicted], scores, Math.Round(micros, 1));
    }

    private static void Render(Result r, string[]? labels)
    {
        var console = Cli.Out;
        string label = r.Label is { Length: > 0 } ? $" ({Markup.Escape(r.Label)})" : "";
        console.MarkupLine($"[bold]class {r.Class}{label}[/]   {r.InferenceMicroseconds:0.0} µs ({r.Runtime} runtime, {r.InputKind} input)");
        var table = new Table().AddColumn("class").AddColumn(new TableColumn("score").RightAligned());
        for (int c = 0; c < r.Scores.Length; c++)
        {
            string name = c.ToString();
            // Labels come from the model file: escaped so that brackets in a label are printed, not parsed.
            if (labels != null) name += " " + Markup.Escape(labels[c]);
            table.AddRow(c == r.Class ? $"[bold]{name}[/]" : name, c == r.Class ? $"[bold]{r.Scores[c]}[/]" : r.Scores[c].ToString());
        }
        console.Write(table);
    }
}
