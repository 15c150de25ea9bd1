using System.CommandLine;
using Qnn.Datasets;
using Qnn.Format;
using Qnn.Trainer.Export;
using Spectre.Console;
using Qnn.Verification;

namespace Qnn.Cli.Commands;

/// <summary>`qnn eval`: accuracy and confusion matrix of a model on a data set's test images, through runtime-edge's fast path.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "the .qnn model" };
        var dataset = DatasetSource.Option("; an image folder is converted to the model's input shape");
        var limit = new Option<int>("--limit") { Description = $"evaluate only the first N test images: {Cli.Limit.Text}" };
        var json = new Option<bool>("--json") { Description = "print the result as JSON" };
        var command = new Command("eval", "Accuracy and confusion matrix of a model on a data set (runtime-edge fast path); a language model's test perplexity (--dataset brown, ptb:PATH or text:PATH).");
        command.Arguments.Add(model);
        command.Options.Add(dataset);
        command.Options.Add(limit);
        command.Options.Add(json);
        command.SetAction(parse => Cli.Run("eval", () =>
        {
            string path = parse.GetValue(model)!;
            Cli.Check(Cli.Limit, parse.GetValue(limit));
            var m = ModelFile.Load(path);
            if (m.Layers[0].Kind == LayerKind.Embedding)
                return LanguageModelEvaluation.Run(path, m, parse.GetValue(dataset)!, parse.GetValue(limit), parse.GetValue(json));
            var shape = ImageShape.Of(m);
            var data = DatasetSource.Load(parse.GetValue(dataset)!, new ImageRequest(shape.Height, shape.Width, shape.Channels)).Test;
            DeployedResult r;
            try
            {
                r = DeployedEvaluation.Run(m, data, parse.GetValue(limit));
            }
            catch (InvalidDataException e)
            {
                throw new UserError($"{path}: {e.Message}");
            }
            int classes = m.ClassCount;
            var confusion = Enumerable.Range(0, classes).Select(t => Enumerable.Range(0, classes).Select(p => r.Confusion[t, p]).ToArray()).ToArray();
            if (parse.GetValue(json))
            {
                Cli.PrintJson(new
                {
                    Model = path, ModelId = m.ModelId.ToString("x16"), Dataset = data.Name, r.Count, r.Correct, r.Accuracy,
                    Labels = m.Labels, Confusion = confusion, ReportedTestAccuracy = m.GetMetadata("test_accuracy"),
                });
                return 0;
            }
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(path)}[/] on {Markup.Escape(data.Name)}: " +
                                   $"[bold]{100 * r.Accuracy:F2}%[/] ({r.Correct}/{r.Count})");
            var table = new Table().Title("confusion matrix (rows: true class, columns: predicted)").AddColumn("");
            string Name(int c) => m.Labels?[c] ?? c.ToString();
            for (int c = 0; c < classes; c++) table.AddColumn(new TableColumn(Markup.Escape(Name(c))).RightAligned());
            for (int t = 0; t < classes; t++)
                table.AddRow(new[] { Markup.Escape(Name(t)) }.Concat(confusion[t].Select((v, p) => p == t ? $"[green]{v}[/]" : v == 0 ? "[dim]0[/]" : v.ToString())).ToArray());
            AnsiConsole.Write(table);
            return 0;
        }));
        return command;
    }
}
