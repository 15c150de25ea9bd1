using Qnn.Datasets;
using Qnn.Trainer.Training;

using Qnn.Trainer;
using Qnn.Trainer.LowPrecision;
using Qnn.Verification;

namespace Qnn.Benchmarks.Training;

/// <summary>One training run of the ablation: its low-precision settings and what it reached.</summary>
public sealed record AblationRow(int GradientBits, string BatchNorm, string Optimizer, double ValAccuracy, double TestAccuracy,
    double FloatTestAccuracy, int BestEpoch, double TrainSeconds);

/// <summary>
/// The table of <c>qnn bench train accuracy</c>: the same network, epochs, seed and data trained with 32-bit and
/// k-bit gradients, each with the exact batch norm and Adam and with the shift-based batch norm and AdaMax (BNN
/// paper). Each run goes through the trainer and its export (<see cref="TrainPipeline.Finish"/>), so the test
/// accuracy is the deployed model's on runtime-edge; the float graph's is reported next to it.
/// </summary>
public static class LowPrecisionAblation
{
    /// <summary>(gradient bits, batch norm, optimizer) of each row, in table order.</summary>
    public static (int GradientBits, string BatchNorm, string Optimizer)[] Variants(int gradientBits) =>
    [
        (GradientQuantization.Off, "exact", "adam"),
        (gradientBits, "exact", "adam"),
        (GradientQuantization.Off, "shift", "adamax-shift"),
        (gradientBits, "shift", "adamax-shift"),
    ];

    /// <summary>
    /// Trains every variant of <paramref name="options"/> on <paramref name="data"/>; <paramref name="starting"/> is told
    /// the row index and options before each run, <paramref name="progress"/> gets the trainer's progress.
    /// </summary>
    public static List<AblationRow> Run(TrainOptions options, DatasetSplit data, int gradientBits,
        Action<int, TrainOptions>? starting = null, IProgress<TrainProgress>? progress = null, CancellationToken cancel = default)
    {
        var rows = new List<AblationRow>();
        var variants = Variants(gradientBits);
        for (int i = 0; i < variants.Length; i++)
        {
            var (bits, bn, optimizer) = variants[i];
            var o = options with { GradBits = bits, BatchNorm = bn, Optimizer = optimizer };
            starting?.Invoke(i, o);
            using var trainer = new Qnn.Trainer.Training.TrainingLoop(o, data.Train);
            var outcome = trainer.Run(progress, cancel);
            string model = Path.Combine(Path.GetTempPath(), $"qnn-ablation-{Environment.ProcessId}-{i}.qnn");
            try
            {
                var s = TrainPipeline.Finish(trainer, outcome, data.Test, model, DeployedEvaluation.Accuracy);
                rows.Add(new AblationRow(bits, bn, optimizer, s.ValAccuracy, s.TestAccuracy, s.FloatAccuracy, s.BestEpoch, s.TrainSeconds));
            }
            finally
            {
                File.Delete(model);
            }
        }
        return rows;
    }
}
