using System.Globalization;
using System.Text;

using Qnn.Format;

namespace Qnn.Trainer.Training;

/// <summary>One line of the per-epoch log.</summary>
public sealed record EpochRecord(int Epoch, double LearningRate, double TrainLoss, double TrainAccuracy, double ValLoss,
    double ValAccuracy, double Seconds)
{
    /// <summary>Samples (a language model: predicted tokens) trained in this epoch; 0 where not counted.</summary>
    public long Samples { get; init; }
}

/// <summary>The per-epoch log as CSV (one header line, then a line per epoch), written atomically.</summary>
public static class EpochLog
{
    public const string Header = "epoch,lr,train_loss,train_accuracy,val_loss,val_accuracy,seconds";

    public static string ToCsv(IEnumerable<EpochRecord> records)
    {
        var sb = new StringBuilder(Header).Append('\n');
        foreach (var r in records)
            sb.Append(string.Create(CultureInfo.InvariantCulture,
                $"{r.Epoch},{r.LearningRate:G6},{r.TrainLoss:G6},{r.TrainAccuracy:F4},{r.ValLoss:G6},{r.ValAccuracy:F4},{r.Seconds:F2}\n"));
        return sb.ToString();
    }

    public static void Write(string path, IEnumerable<EpochRecord> records) => OutputFile.WriteAllText(path, ToCsv(records));

    /// <summary>A language model's log: the same columns (losses in nats per token, next-token accuracies), then the perplexities e^loss and the tokens.</summary>
    public const string PerplexityHeader = Header + ",train_perplexity,val_perplexity,tokens";

    public static string ToPerplexityCsv(IEnumerable<EpochRecord> records)
    {
        var sb = new StringBuilder(PerplexityHeader).Append('\n');
        foreach (var r in records)
            sb.Append(ToCsv([r]).Split('\n')[1]).Append(string.Create(CultureInfo.InvariantCulture,
                $",{Math.Exp(r.TrainLoss):F2},{Math.Exp(r.ValLoss):F2},{r.Samples}\n"));
        return sb.ToString();
    }

    public static void WritePerplexity(string path, IEnumerable<EpochRecord> records) => OutputFile.WriteAllText(path, ToPerplexityCsv(records));
}
