using System.Globalization;
using Qnn.Format;
using Qnn.Trainer.Export;
using Qnn.Trainer.Training;

namespace Qnn.Trainer.Sequence;

/// <summary>What one language-model run produced, as `qnn train --json` prints it.</summary>
public sealed record LmSummary
{
    /// <summary>The model written, or null (the float baseline is not exportable).</summary>
    public string? Model { get; init; }
    public string? ModelId { get; init; }
    public long ModelBytes { get; init; }
    /// <summary>The bytes of the same network's parameters as float32 (every weight, embedding entry, scale and bias).</summary>
    public long FloatBytes { get; init; }
    public required string Dataset { get; init; }
    public required string Arch { get; init; }
    public required int Vocabulary { get; init; }
    public required int Hidden { get; init; }
    public required int Embed { get; init; }
    public required int Layers { get; init; }
    public required string Bits { get; init; }
    public required int BestEpoch { get; init; }
    public required int Seed { get; init; }
    /// <summary>Test perplexity of the deployed integer model (the trainer's integer evaluation of the written file); NaN in float.</summary>
    public required double TestPerplexity { get; init; }
    /// <summary>Test perplexity of the training graph in inference mode.</summary>
    public required double FloatPerplexity { get; init; }
    public required double ValPerplexity { get; init; }
    public required double TestAccuracy { get; init; }
    public required long TestTokens { get; init; }
    public required long TrainTokens { get; init; }
    public required double TrainSeconds { get; init; }
    public required double TokensPerSecond { get; init; }
    public required List<EpochRecord> History { get; init; }
}

/// <summary>Measure the float graph, export, measure the deployed integer model from the file's bytes, write it.</summary>
public static class LmPipeline
{
    public static LmSummary Finish(LmTrainingLoop trainer, TrainOutcome outcome, LmCorpus corpus, string? outPath)
    {
        var o = trainer.Options;
        var shape = trainer.Shape;
        var (floatLoss, floatAcc) = trainer.Evaluate(corpus.Test, out var floatLosses);
        double deployed = double.NaN, deployedAcc = floatAcc;
        string? id = null;
        long bytes = 0;
        var best = outcome.History.Count > 0 && outcome.BestEpoch > 0 ? outcome.History[outcome.BestEpoch - 1] : null;
        double val = best is null ? double.NaN : LmLoss.Perplexity(best.ValLoss);
        string arch = $"{o.Arch} layers={shape.Layers} hidden={shape.Hidden} embed={shape.Embed} vocabulary={shape.Vocab} {BitsText(shape.Bits)}";
        if (outPath != null && !shape.Bits.Float)
        {
            var exported = SequenceExporter.Export(trainer.Model, corpus.Vocabulary);
            var model = ModelFile.Parse(ModelWriter.Write(exported), outPath);
            var (intLoss, intAcc) = new SequenceIntegerEvaluation(model).Evaluate(corpus.Test, o.Batch, out var intLosses);
            if (!intLosses.AsSpan().SequenceEqual(floatLosses))
                throw new InvalidOperationException($"the integer model's test losses differ from the graph's ({intLoss} against {floatLoss} nats): the export is wrong");
            deployed = LmLoss.Perplexity(intLoss);
            deployedAcc = intAcc;
            var meta = new List<(string, string)>
            {
                ("dataset", o.Dataset), ("arch", arch),
                ("test_perplexity", P(deployed)), ("float_perplexity", P(LmLoss.Perplexity(floatLoss))), ("val_perplexity", P(val)),
                ("test_accuracy", TrainPipeline.F(intAcc)), ("test_streams", o.Batch.ToString(CultureInfo.InvariantCulture)),
                ("seed", o.Seed.ToString(CultureInfo.InvariantCulture)), ("epochs", o.Epochs.ToString(CultureInfo.InvariantCulture)),
                ("training", string.Create(CultureInfo.InvariantCulture,
                    $"lr={o.Lr}..{o.LrEnd} batch={o.Batch} bptt={o.Bptt} clip={o.Clip} dropout={o.Dropout} optimizer={o.Optimizer} " +
                    $"epochs_run={outcome.History.Count}{(o.Minutes > 0 ? " minutes=" + o.Minutes.ToString(CultureInfo.InvariantCulture) : "")}")),
                ("tool_version", "qnn " + TrainPipeline.ToolVersion), ("created_utc", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)),
            };
            exported.MetadataKeys = exported.MetadataKeys.Concat(meta.Select(p => p.Item1)).ToArray();
            exported.MetadataValues = exported.MetadataValues.Concat(meta.Select(p => p.Item2)).ToArray();
            ModelWriter.WriteFile(exported, outPath);
            id = exported.ModelId.ToString("x16");
            bytes = new FileInfo(outPath).Length;
        }
        double seconds = outcome.History.Sum(e => e.Seconds);
        return new LmSummary
        {
            Model = id is null ? null : outPath, ModelId = id, ModelBytes = bytes, FloatBytes = 4L * trainer.Model.Parameters.Sum(p => (long)p.Value.Length),
            Dataset = o.Dataset, Arch = o.Arch, Vocabulary = shape.Vocab, Hidden = shape.Hidden, Embed = shape.Embed, Layers = shape.Layers,
            Bits = BitsText(shape.Bits), BestEpoch = outcome.BestEpoch, Seed = o.Seed, TestPerplexity = deployed,
            FloatPerplexity = LmLoss.Perplexity(floatLoss), ValPerplexity = val, TestAccuracy = deployedAcc, TestTokens = floatLosses.Length,
            TrainTokens = trainer.TrainTokens, TrainSeconds = outcome.Elapsed.TotalSeconds,
            TokensPerSecond = seconds > 0 ? outcome.History.Sum(e => e.Samples) / seconds : 0, History = outcome.History,
        };
    }

    public static string BitsText(SequenceBits b) => b.Float ? "float32" : $"w{b.Weight}a{b.Act}g{b.Gate}c{b.Cell}";

    private static string P(double perplexity) => perplexity.ToString("F2", CultureInfo.InvariantCulture);
}
