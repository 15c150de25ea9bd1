using Qnn.Datasets;
using Qnn.Format;
using Qnn.Trainer.Sequence;
using Qnn.Trainer.Training;
using Spectre.Console;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn train --arch lstm|gru`: the language-model trainer (trainer/Qnn.Trainer/Sequence) with the same progress bar,
/// checkpoints (Ctrl-C saves one; --resume continues), CSV log and plot as the image trainer; at the end the
/// deployed integer model's test perplexity next to the float graph's.
/// </summary>
public static class LanguageModelTraining
{
    public static int Train(TrainOptions options, string outPath, string checkpointPath, bool resume, string logPath, string plotPath, bool json)
    {
        bool export = options.WeightBits < 32;
        OutputFile.CheckAll([("--out", outPath), ("--checkpoint", checkpointPath), ("--log", logPath), ("--plot", plotPath)], []);
        if (resume && !File.Exists(checkpointPath)) throw new UserError($"{checkpointPath}: no checkpoint to resume from");
        TextCorpus text;
        try
        {
            text = TextCorpusLoader.Load(options.Dataset);
        }
        catch (TextCorpusException e)
        {
            throw new UserError(e.Message);
        }
        var corpus = new LmCorpus(text.Name, text.Vocabulary, text.Train, text.Valid, text.Test);
        LmTrainingLoop trainer;
        try
        {
            trainer = new LmTrainingLoop(options, corpus)
            {
                CheckpointPath = checkpointPath,
                EpochDone = h => WriteLogAndPlot(h, logPath, plotPath, options),
            };
        }
        catch (ArgumentException e)
        {
            throw new UserError(e.Message);
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var shape = trainer.Shape;
        console.MarkupLine(Markup.Escape($"qnn train {options.Arch} on {corpus.Name}: vocabulary {shape.Vocab}, {corpus.Train.Length:N0} training, " +
                                         $"{corpus.Valid.Length:N0} validation, {corpus.Test.Length:N0} test tokens; {shape.Layers} x {shape.Hidden} units, " +
                                         $"embedding {shape.Embed}, {LmPipeline.BitsText(shape.Bits)}; {options.Batch} streams x bptt {options.Bptt}, " +
                                         $"{trainer.Batches} segments per epoch, seed {options.Seed}" + (options.Minutes > 0 ? $", {options.Minutes} minutes" : "")));
        if (!export) console.MarkupLine("[yellow]the 32-bit float baseline is not exportable[/]: it is trained and measured, and no model file is written");
        TrainOutcome? outcome = TrainCommand.RunWithProgress(console, checkpointPath, (progress, cancel) => trainer.Run(progress, cancel, resume), (task, p) =>
        {
            if (p.Batch != p.Batches && p.Batch % 10 != 0) return;
            task.Description = Markup.Escape(
                $"epoch {p.Epoch + 1}/{p.Epochs} segment {p.Batch}/{p.Batches}  loss {p.Loss:F3}  ppl {Math.Exp(p.Loss):F1}  acc {100 * p.Accuracy:F1}%  " +
                $"{p.SamplesPerSecond:F0} tokens/s  ETA {p.Eta:hh\\:mm\\:ss}");
            task.Value = options.Minutes > 0
                ? Math.Min(1, 1 - p.Eta.TotalSeconds / (options.Minutes * 60))
                : (p.Epoch + (double)p.Batch / p.Batches) / p.Epochs;
        });
        if (outcome is null) return 130;
        var summary = LmPipeline.Finish(trainer, outcome, corpus, export ? outPath : null);
        if (json)
        {
            Cli.PrintJson(summary);
            return 0;
        }
        var table = new Table().HideHeaders().AddColumn("").AddColumn("");
        table.AddRow("model", summary.Model is null
            ? "none (the float baseline is not exportable)"
            : Markup.Escape($"{summary.Model} ({summary.ModelBytes:N0} bytes against {summary.FloatBytes:N0} as float32, id {summary.ModelId})"));
        if (summary.Model is not null)
            table.AddRow("deployed test perplexity", $"{summary.TestPerplexity:F2} (the integer model, {summary.TestTokens:N0} tokens)");
        table.AddRow("float test perplexity", $"{summary.FloatPerplexity:F2} (training graph, inference mode)");
        table.AddRow("validation perplexity", $"{summary.ValPerplexity:F2} (best epoch {summary.BestEpoch})");
        table.AddRow("training time", $"{summary.TrainSeconds:F0} s, {summary.TokensPerSecond:F0} tokens/s");
        table.AddRow("log, plot", Markup.Escape($"{logPath}, {plotPath}"));
        AnsiConsole.Write(table);
        return 0;
    }

    private static void WriteLogAndPlot(IReadOnlyList<EpochRecord> history, string logPath, string plotPath, TrainOptions o)
    {
        EpochLog.WritePerplexity(logPath, history);
        TrainCommand.SavePlot(history, logPath, plotPath, $"{o.Arch} w{o.WeightBits}a{o.ActBits} on {o.Dataset} (loss in nats per token)");
    }
}
