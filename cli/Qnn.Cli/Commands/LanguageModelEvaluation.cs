using System.Globalization;
using Qnn.Datasets;
using Qnn.Format;
using Qnn.Trainer.Export;
using Qnn.Trainer.Sequence;
using Spectre.Console;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn eval LM.qnn --dataset brown`: the test perplexity of a sequence model's integer meaning (SPEC 1.10), by the
/// trainer's step-by-step integer evaluation, over the same streams the training run measured (metadata
/// <c>test_streams</c>), so it prints the perplexity the run reported.
/// </summary>
public static class LanguageModelEvaluation
{
    public static int Run(string path, QnnModel model, string dataset, int limit, bool json)
    {
        if (!TextCorpusLoader.IsText(dataset))
            throw new UserError($"{path} is a language model: evaluate it on a text corpus, --dataset {TextCorpusLoader.Forms}");
        TextCorpus text;
        try
        {
            text = TextCorpusLoader.Load(dataset);
        }
        catch (TextCorpusException e)
        {
            throw new UserError(e.Message);
        }
        if (text.Vocabulary.Count != model.ClassCount)
            throw new UserError($"{path}: the model has a vocabulary of {model.ClassCount} tokens, {text.Name} one of {text.Vocabulary.Count}");
        if (model.Labels is { } labels)
            for (int i = 0; i < labels.Length; i++)
                if (labels[i] != SequenceExporter.Label(text.Vocabulary[i]))
                    throw new UserError($"{path}: token {i} is \"{labels[i]}\" in the model and \"{text.Vocabulary[i]}\" in {text.Name}: another vocabulary");
        int streams = int.TryParse(model.GetMetadata("test_streams"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int s) && s > 0 ? s : 1;
        int[] tokens = limit > 0 ? text.Test.Take(limit + 1).ToArray() : text.Test;
        SequenceIntegerEvaluation evaluation;
        try
        {
            evaluation = new SequenceIntegerEvaluation(model);
        }
        catch (ArgumentException e)
        {
            throw new UserError($"{path}: {e.Message}");
        }
        var (loss, accuracy) = evaluation.Evaluate(tokens, Math.Min(streams, Math.Max(1, tokens.Length - 1)), out var losses);
        double perplexity = LmLoss.Perplexity(loss);
        if (json)
        {
            Cli.PrintJson(new
            {
                Model = path, ModelId = model.ModelId.ToString("x16"), Dataset = text.Name, Tokens = losses.Length, Streams = streams,
                Perplexity = perplexity, Loss = loss, Accuracy = accuracy, ReportedTestPerplexity = model.GetMetadata("test_perplexity"),
            });
            return 0;
        }
        AnsiConsole.MarkupLine(Markup.Escape($"{path} on {text.Name}: test perplexity {perplexity:F2} ({loss:F4} nats per token, next-token accuracy " +
                                             $"{100 * accuracy:F2}%, {losses.Length:N0} tokens in {streams} streams, the integer model)"));
        return 0;
    }
}
