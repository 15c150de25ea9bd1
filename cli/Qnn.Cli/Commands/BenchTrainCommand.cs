using System.CommandLine;
using System.Globalization;
using Qnn.Datasets;
using Qnn.Trainer.LowPrecision;
using Qnn.Trainer.Training;
using Spectre.Console;
using Qnn.Benchmarks.Training;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn bench train`: the bitwise training path (XOR-popcount over bit-planes of k-bit gradients, binary weights
/// and activations) against the float path on the same quantized gradients, timed in the same run, with a check
/// that both give the same updates bit for bit. `qnn bench train accuracy`: the MNIST table of 32- vs k-bit
/// gradients and exact vs shift-based batch norm and AdaMax.
/// </summary>
public static class BenchTrainCommand
{
    public static Command Create()
    {
        var width = new Option<int>("--width") { Description = "Units of each of the 3 hidden layers (the paper's MLP has 4096).", DefaultValueFactory = _ => 1024 };
        var batch = new Option<int>("--batch") { Description = "Samples per step.", DefaultValueFactory = _ => 100 };
        var gradBits = GradBitsOption();
        var steps = new Option<int>("--steps") { Description = "Timed training steps per path (after one warm-up step).", DefaultValueFactory = _ => 5 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("train", "Bitwise training path (XNOR-popcount over bit-planes of k-bit gradients) against the float path, on the CPU backend.");
        foreach (var o in new Option[] { width, batch, gradBits, steps, json }) command.Options.Add(o);
        command.SetAction(parse => Cli.Run("bench train", () =>
        {
            int w = parse.GetValue(width), b = parse.GetValue(batch), k = parse.GetValue(gradBits), n = parse.GetValue(steps);
            Cli.Check(new("--width", 1, 16_384), w);
            Cli.Check(TrainOptions.Ranges.Batch, b);
            Cli.Check(new("--steps", 1, 1000), n);
            CheckGradBits(k);
            var r = Cli.Err.Status().Start($"timing 3 x {w} MLP, batch {b}, {k}-bit gradients, {n} steps per path", _ => BitwiseBenchmark.Run(w, b, k, n));
            if (parse.GetValue(json))
            {
                Cli.PrintJson(new { r.Width, r.Batch, r.GradientBits, r.Steps, r.Threads, r.FloatGradientsMs, r.FloatProductsMs, r.BitwiseMs, r.Speedup, r.IdenticalUpdates });
                return r.IdenticalUpdates ? 0 : 1;
            }
            var table = new Table().AddColumns("path", "ms / step (forward + backward)");
            table.AddRow("float gradients (trainer default: XNOR forward, float backward)", Ms(r.FloatGradientsMs));
            table.AddRow($"{k}-bit gradients, float products over the levels", Ms(r.FloatProductsMs));
            table.AddRow($"{k}-bit gradients, bitwise products (XNOR-popcount, bit-planes)", Ms(r.BitwiseMs));
            Cli.Out.Write(table);
            Console.WriteLine($"3 x {w} MLP, batch {b}, {n} steps, {r.Threads} threads: bitwise / float products speed ratio {r.Speedup.ToString("F2", CultureInfo.InvariantCulture)}; " +
                $"updates {(r.IdenticalUpdates ? "identical bit for bit" : "DIFFER")}.");
            return r.IdenticalUpdates ? 0 : 1;
        }));
        command.Subcommands.Add(Accuracy());
        return command;
    }

    private static Option<int> GradBitsOption() =>
        new("--grad-bits") { Description = "Bits of the quantized gradients (QNN paper: 6).", DefaultValueFactory = _ => 6 };

    private static void CheckGradBits(int k)
    {
        if (k is < 2 or > 16) throw new UserError($"--grad-bits is 2-16, not {k}");
    }

    private static string Ms(double ms) => ms.ToString("F1", CultureInfo.InvariantCulture);

    private static Command Accuracy()
    {
        var dataset = new Option<string>("--dataset") { Description = "mnist, or idx:PATH.", DefaultValueFactory = _ => "mnist" };
        var arch = new Option<string>("--arch") { Description = "Architecture (qnn train --arch).", DefaultValueFactory = _ => "mlp-micro" };
        var epochs = new Option<int>("--epochs") { Description = "Epochs of every run.", DefaultValueFactory = _ => 3 };
        var seed = new Option<int>("--seed") { Description = "Seed of every run.", DefaultValueFactory = _ => 1 };
        var trainLimit = new Option<int>("--train-limit") { Description = "Use at most this many training samples (0: all).", DefaultValueFactory = _ => 0 };
        var gradBits = GradBitsOption();
        var json = new Option<bool>("--json") { Description = "Print the table as JSON." };
        var command = new Command("accuracy", "MNIST accuracy of 32- vs k-bit gradients and exact vs shift-based batch norm and AdaMax (same net, epochs, seed).");
        foreach (var o in new Option[] { dataset, arch, epochs, seed, trainLimit, gradBits, json }) command.Options.Add(o);
        command.SetAction(parse => Cli.Run("bench train accuracy", () =>
        {
            int k = parse.GetValue(gradBits);
            CheckGradBits(k);
            var options = new TrainOptions
            {
                Dataset = parse.GetValue(dataset)!, Arch = parse.GetValue(arch)!, Epochs = parse.GetValue(epochs), Seed = parse.GetValue(seed),
                TrainLimit = parse.GetValue(trainLimit),
            };
            DatasetSplit data;
            List<AblationRow> rows;
            try
            {
                options.Validate();     // every range, before the data is loaded
                data = DatasetLoader.Load(options.Dataset);
                rows = Cli.Err.Progress().AutoClear(true)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        ProgressTask? task = null;
                        var progress = new Reporter(p =>
                        {
                            if (task is null) return;
                            task.MaxValue = (double)p.Epochs * p.Batches;
                            task.Value = (double)p.Epoch * p.Batches + p.Batch;
                        });
                        return LowPrecisionAblation.Run(options, data, k, (i, o) =>
                        {
                            if (task != null) task.Value = task.MaxValue;
                            task = ctx.AddTask($"{i + 1}/4: {Describe(o.GradBits, o.BatchNorm, o.Optimizer)}");
                        }, progress);
                    });
            }
            catch (ArgumentException e)
            {
                throw new UserError(e.Message);
            }
            if (parse.GetValue(json))
            {
                Cli.PrintJson(new { options.Dataset, options.Arch, options.Epochs, options.Seed, options.TrainLimit, Rows = rows });
                return 0;
            }
            var table = new Table().AddColumns("gradients", "batch norm", "optimizer", "val acc", "test acc (deployed)", "test acc (float)", "best epoch", "train s");
            foreach (var r in rows)
                table.AddRow(r.GradientBits == GradientQuantization.Off ? "32-bit float" : $"{r.GradientBits}-bit", r.BatchNorm, r.Optimizer,
                    Pct(r.ValAccuracy), Pct(r.TestAccuracy), Pct(r.FloatTestAccuracy), r.BestEpoch.ToString(CultureInfo.InvariantCulture),
                    r.TrainSeconds.ToString("F0", CultureInfo.InvariantCulture));
            Cli.Out.Write(table);
            Console.WriteLine($"{options.Dataset}, {options.Arch}, {options.Epochs} epochs, seed {options.Seed}, {data.Train.Count - options.Validation} training samples" +
                (options.TrainLimit > 0 ? $" (limited to {options.TrainLimit})" : "") + $", {data.Test.Count} test samples.");
            return 0;
        }));
        return command;
    }

    private static string Describe(int bits, string bn, string optimizer) =>
        $"{(bits == GradientQuantization.Off ? "32-bit" : $"{bits}-bit")} gradients, {bn} batch norm, {optimizer}";

    private static string Pct(double fraction) => (100 * fraction).ToString("F2", CultureInfo.InvariantCulture) + "%";

    /// <summary>Reports progress synchronously, on the training thread (Progress&lt;T&gt; would post it elsewhere).</summary>
    private sealed class Reporter(Action<TrainProgress> report) : IProgress<TrainProgress>
    {
        public void Report(TrainProgress value) => report(value);
    }
}
