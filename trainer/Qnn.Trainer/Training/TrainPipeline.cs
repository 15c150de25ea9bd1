using System.Globalization;
using Qnn.Datasets;
using Qnn.Format;
using Qnn.Trainer.Export;

namespace Qnn.Trainer.Training;

/// <summary>What one `qnn train` run produced, as its --json summary prints it.</summary>
public sealed record TrainSummary
{
    public required string Model { get; init; }
    public required string ModelId { get; init; }
    public required long ModelBytes { get; init; }
    public required string Dataset { get; init; }
    public required string Arch { get; init; }
    public required int Width { get; init; }
    public required int WeightBits { get; init; }
    public required int ActBits { get; init; }
    public required int Epochs { get; init; }
    public required int BestEpoch { get; init; }
    public required int Seed { get; init; }
    /// <summary>Deployed (integer) accuracy on the test set, measured on a runtime by the caller (the CLI: runtime-edge's fast path).</summary>
    public required double TestAccuracy { get; init; }
    /// <summary>The training graph in inference mode (float) on the test set.</summary>
    public required double FloatAccuracy { get; init; }
    public required double ValAccuracy { get; init; }
    public required int TestCount { get; init; }
    public required double TrainSeconds { get; init; }
    /// <summary>Samples in one epoch (the training split after the validation hold-out and any --train-limit).</summary>
    public required int TrainSamples { get; init; }
    /// <summary>Training throughput: samples of the logged epochs over their logged seconds (validation included).</summary>
    public required double SamplesPerSecond { get; init; }
    public required List<EpochRecord> History { get; init; }
}

/// <summary>Train, restore the best-validation parameters, export, measure the deployed model, write it.</summary>
public static class TrainPipeline
{
    public static string ToolVersion => typeof(TrainPipeline).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>
    /// Exports <paramref name="trainer"/>'s network, measures the float and the deployed test accuracy, writes the
    /// model with its metadata to <paramref name="outPath"/> atomically, and returns the summary.
    /// </summary>
    /// <param name="deployedAccuracy">
    /// Measures the exported model on a runtime: the trainer references the format, not the runtimes, so the layer
    /// above it (Qnn.Verification's DeployedEvaluation.Accuracy) is passed in.
    /// </param>
    public static TrainSummary Finish(TrainingLoop trainer, TrainOutcome outcome, Dataset test, string outPath, Func<QnnModel, Dataset, double> deployedAccuracy)
    {
        var o = trainer.Options;
        var net = trainer.Network;
        int ok = net.Evaluate(test.Pixels, test.Labels, 0, test.Count, default, out _, Registry.Losses[o.Loss]);
        double floatAcc = (double)ok / test.Count;
        var exported = ModelExporter.Export(net, o.Dataset, test.ClassNames);
        // Measure the file's bytes as a device would read them, not the in-memory model.
        var model = ModelFile.Parse(ModelWriter.Write(exported.Model), outPath);
        double deployed = deployedAccuracy(model, test);
        var m = exported.Model;
        var meta = new List<(string, string)>
        {
            ("dataset", o.Dataset), ("arch", $"{o.Arch} width={trainer.Arch.Width} w{o.WeightBits}a{o.ActBits}"),
            ("test_accuracy", F(deployed)), ("float_accuracy", F(floatAcc)),
            ("val_accuracy", outcome.BestValAccuracy >= 0 ? F(outcome.BestValAccuracy) : "none (no validation split)"),
            ("seed", o.Seed.ToString(CultureInfo.InvariantCulture)), ("epochs", o.Epochs.ToString(CultureInfo.InvariantCulture)),
            ("training", string.Create(CultureInfo.InvariantCulture,
                $"lr={o.Lr}..{o.LrEnd} batch={o.Batch} shift={o.Shift} dropout={trainer.Arch.InputDropout}/{trainer.Arch.HiddenDropout} " +
                $"loss={o.Loss} optimizer={o.Optimizer} grad_bits={o.GradBits} bn={o.BatchNorm} validation={o.Validation} " +
                $"act_quant={o.ActQuant} weight_quant={o.WeightQuant} lr_schedule_epochs={(o.ScheduleEpochs > 0 ? o.ScheduleEpochs : o.Epochs)} epochs_run={outcome.History.Count}" +
                $"{(o.Minutes > 0 ? " minutes=" + o.Minutes.ToString(CultureInfo.InvariantCulture) : "")}" +
                $"{(o.GradScale != "tensor" ? " grad_scale=" + o.GradScale : "")}{(o.GradLayers != "all" ? " grad_layers=" + o.GradLayers : "")}")),
            ("preset", o.Preset == "" ? "none" : $"{o.Preset}: {Presets.Get(o.Preset).Settings}"),
            ("tool_version", "qnn " + ToolVersion), ("created_utc", DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)),
        };
        m.MetadataKeys = m.MetadataKeys.Concat(meta.Select(p => p.Item1)).ToArray();
        m.MetadataValues = m.MetadataValues.Concat(meta.Select(p => p.Item2)).ToArray();
        ModelWriter.WriteFile(m, outPath);
        return new TrainSummary
        {
            Model = outPath, ModelId = m.ModelId.ToString("x16"), ModelBytes = new FileInfo(outPath).Length, Dataset = o.Dataset,
            Arch = o.Arch, Width = trainer.Arch.Width, WeightBits = o.WeightBits, ActBits = o.ActBits, Epochs = o.Epochs,
            BestEpoch = outcome.BestEpoch, Seed = o.Seed, TestAccuracy = deployed, FloatAccuracy = floatAcc,
            ValAccuracy = outcome.BestValAccuracy, TestCount = test.Count, TrainSeconds = outcome.Elapsed.TotalSeconds, History = outcome.History,
            TrainSamples = trainer.TrainCount,
            SamplesPerSecond = outcome.History.Sum(e => e.Seconds) is > 0 and var s ? trainer.TrainCount * outcome.History.Count / s : 0,
        };
    }

    /// <summary>Accuracies in metadata are fractions in [0, 1] with 4 decimals.</summary>
    public static string F(double fraction) => fraction.ToString("F4", CultureInfo.InvariantCulture);
}
