using System.Globalization;
using System.Text;

using Qnn.Format;

namespace Qnn.Trainer.Training;

/// <summary>One line of the per-epoch log.</summary>
public sealed record EpochRecord(int Epoch, double LearningRate, double TrainLoss, double TrainAccuracy, double ValLoss,
    double ValAccuracy, double Seconds);

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
}
