using System.CommandLine;
using Qnn.Datasets;
using Qnn.Format;
using Qnn.Trainer;
using Qnn.Trainer.Sequence;
using Qnn.Trainer.Training;
using Spectre.Console;
using Qnn.Verification;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn train`: trains a binarized/quantized network on the CPU (trainer/), shows progress, writes a checkpoint
/// every epoch (Ctrl-C saves one and stops; --resume continues bit for bit), the per-epoch CSV log and a PNG of the
/// curves, then exports the best-validation network and reports its deployed (integer) test accuracy.
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var dataset = DatasetSource.Option();
        var imageSize = DatasetSource.ImageSizeOption();
        var channels = DatasetSource.ChannelsOption();
        var arch = new Option<string>("--arch") { Description = $"architecture: {string.Join(", ", Architectures.All.Keys)}; language models: {string.Join(", ", SequenceArchitectures.All.Keys)} (--dataset brown, ptb:PATH or text:PATH)", DefaultValueFactory = _ => "mlp" };
        var epochs = new Option<int>("--epochs") { Description = $"epochs ({TrainOptions.Ranges.Epochs.Text}; default {Architectures.MlpEpochs} for --arch mlp, {new TrainOptions().Epochs} for the others)", DefaultValueFactory = _ => new TrainOptions().Epochs };
        var output = new Option<string>("--out") { Description = "the .qnn model to write", DefaultValueFactory = _ => "model.qnn" };
        var width = new Option<int>("--width") { Description = $"hidden units (mlp) or first conv filters (conv): {TrainOptions.Ranges.Width.Text}; refused when the memory it needs is over 3/4 of the machine's or its checkpoint over 2 GB" };
        var weightBits = new Option<int>("--weight-bits") { Description = $"weight bits m ({TrainOptions.Ranges.WeightBits.Text}; lstm/gru: {TrainOptions.Ranges.SequenceBits.Text}, default 4)", DefaultValueFactory = _ => 1 };
        var actBits = new Option<int>("--act-bits") { Description = $"activation bits k ({TrainOptions.Ranges.ActBits.Text}; lstm/gru: {TrainOptions.Ranges.SequenceBits.Text}, default 4)", DefaultValueFactory = _ => 1 };
        var layers = new Option<int>("--layers") { Description = $"lstm/gru: recurrent layers ({TrainOptions.Ranges.Layers.Text})", DefaultValueFactory = _ => new TrainOptions().Layers };
        var hidden = new Option<int>("--hidden") { Description = $"lstm/gru: units per recurrent layer ({TrainOptions.Ranges.Hidden.Text})" };
        var embed = new Option<int>("--embed") { Description = $"lstm/gru: embedding size ({TrainOptions.Ranges.Embed.Text})" };
        var bptt = new Option<int>("--bptt") { Description = $"lstm/gru: steps of truncated back-propagation through time, the state carried across segments ({TrainOptions.Ranges.Bptt.Text})", DefaultValueFactory = _ => new TrainOptions().Bptt };
        var gateBits = new Option<int>("--gate-bits") { Description = $"lstm/gru: gate bits g ({TrainOptions.Ranges.GateBits.Text})" };
        var cellBits = new Option<int>("--cell-bits") { Description = $"lstm: cell-state bits s ({TrainOptions.Ranges.CellBits.Text})" };
        var dropout = new Option<float>("--dropout") { Description = $"lstm/gru: dropout between layers ({TrainOptions.Ranges.Dropout.Text})", DefaultValueFactory = _ => new TrainOptions().Dropout };
        var clip = new Option<float>("--clip") { Description = $"lstm/gru: clip the global gradient norm to this, 0 = no clipping ({TrainOptions.Ranges.Clip.Text})", DefaultValueFactory = _ => new TrainOptions().Clip };
        var batch = new Option<int>("--batch") { Description = $"mini-batch size ({TrainOptions.Ranges.Batch.Text}; default: the architecture's, e.g. 50 for paper-cifar10, else {new TrainOptions().Batch})", DefaultValueFactory = _ => new TrainOptions().Batch };
        var lr = new Option<float>("--lr") { Description = $"learning rate of the first epoch ({TrainOptions.Ranges.Lr.Text}); default {new TrainOptions().Lr}, and {Qnn.Trainer.LowPrecision.AdaMaxShift.DefaultLearningRate} with --optimizer adamax-shift", DefaultValueFactory = _ => new TrainOptions().Lr };
        var lrEnd = new Option<float>("--lr-end") { Description = $"learning rate of the last epoch, exponential decay ({TrainOptions.Ranges.LrEnd.Text})", DefaultValueFactory = _ => new TrainOptions().LrEnd };
        var seed = new Option<int>("--seed") { Description = "random seed, any 32-bit integer (runs are bit-reproducible)", DefaultValueFactory = _ => 1 };
        var loss = new Option<string>("--loss") { Description = $"loss: {string.Join(", ", Registry.Losses.Keys)}", DefaultValueFactory = _ => "squared_hinge" };
        var optimizer = new Option<string>("--optimizer") { Description = $"optimizer: {string.Join(", ", Registry.Optimizers.Keys)}", DefaultValueFactory = _ => "adam" };
        var validation = new Option<int>("--validation") { Description = $"training samples held out for validation ({TrainOptions.Ranges.Validation.Text}, leaving at least one batch; default {new TrainOptions().Validation}, or a tenth of a smaller training set)", DefaultValueFactory = _ => new TrainOptions().Validation };
        var dropIn = new Option<float>("--dropout-in") { Description = $"input dropout: {TrainOptions.Ranges.InputDropout.Text}", DefaultValueFactory = _ => -1f };
        var dropHidden = new Option<float>("--dropout-hidden") { Description = $"hidden dropout: {TrainOptions.Ranges.HiddenDropout.Text}", DefaultValueFactory = _ => -1f };
        var shift = new Option<int>("--shift") { Description = $"data augmentation: move each training image by up to N pixels, 0 = none ({TrainOptions.Ranges.Shift.Text}, below the image side)", DefaultValueFactory = _ => new TrainOptions().Shift };
        var limit = new Option<int>("--train-limit") { Description = $"use only the first N training samples: {TrainOptions.Ranges.TrainLimit.Text}" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "checkpoint file (default: OUT.ckpt)" };
        var resume = new Option<bool>("--resume") { Description = "continue from the checkpoint" };
        var log = new Option<string?>("--log") { Description = "per-epoch CSV log (default: OUT.log.csv)" };
        var plot = new Option<string?>("--plot") { Description = "PNG of the training curves (default: OUT.png)" };
        var json = new Option<bool>("--json") { Description = "print the summary as JSON" };
        var backend = new Option<string>("--backend") { Description = "cpu or ilgpu (trainer/Qnn.Trainer.Gpu)", DefaultValueFactory = _ => "cpu" };
        var accelerator = new Option<string>("--accelerator") { Description = "with --backend ilgpu: cuda, opencl, cpu or auto", DefaultValueFactory = _ => "auto" };
        var gradBits = new Option<int>("--grad-bits") { Description = $"bits of the quantized gradients, QNN paper: 6 ({TrainOptions.Ranges.GradBits.Text})", DefaultValueFactory = _ => 32 };
        var gradScale = new Option<string>("--grad-scale")
        {
            Description = "with --grad-bits: the gradient quantizer's max-norm, tensor (one per layer output, the default) or sample " +
                          "(one per sample: DoReFa-Net eq. 12, which the QNN paper cites)",
            DefaultValueFactory = _ => "tensor",
        };
        var gradLayers = new Option<string>("--grad-layers")
        {
            Description = "with --grad-bits: all (every product layer, the default) or hidden (the first and last keep float gradients, " +
                          "as the DoReFa-Net authors' code)",
            DefaultValueFactory = _ => "all",
        };
        var bn = new Option<string>("--bn") { Description = "batch norm: exact or shift (BNN paper, Algorithm 3)", DefaultValueFactory = _ => "exact" };
        var actQuant = new Option<string>("--act-quant")
        {
            Description = "activation quantizer: odd (default: 2^k odd levels without 0; sign at 1 bit), sign (1 bit), " +
                          "linear (the QNN paper's LinearQuant, 2^k even steps with 0 in the grid), stochastic (BNN Eq. 2-3, 1 bit, " +
                          "training only: the deployed model takes the sign)",
            DefaultValueFactory = _ => "odd",
        };
        var weightQuant = new Option<string>("--weight-quant")
        {
            Description = "weight quantizer: odd (default: 2^m odd levels without 0; sign at 1 bit), sign (1 bit), " +
                          "log (the QNN paper's LogQuant: signed powers of two +-2^e, e in 0..2^(m-1)-1, so every product is a shift; " +
                          "2-4 bits; SPEC 1.3), stochastic (BNN Eq. 2-3, 1 bit, training only: the deployed model takes the sign); " +
                          "linear is refused: its grid holds 0, which a .qnn weight cannot be",
            DefaultValueFactory = _ => "odd",
        };
        var minutes = new Option<double>("--minutes") { Description = $"time budget: stop at the first epoch boundary after N minutes of training, keeping the best-validation epoch ({TrainOptions.Ranges.Minutes.Text})" };
        var preset = new Option<string?>("--preset")
        {
            Description = "a paper's run, every hyper-parameter set (--epochs and --minutes stop it early and change nothing else; " +
                          "--dataset, --seed, --train-limit, --backend and the outputs stay yours): " +
                          string.Join("; ", Presets.All.Values.Select(p => $"{p.Name} = {p.Description} [{p.Settings}]")),
        };

        var command = new Command("train", "Train a binarized/quantized network on the CPU and export it as .qnn.");
        foreach (Option o in new Option[] { dataset, imageSize, channels, arch, epochs, output, width, weightBits, actBits, batch, lr, lrEnd, seed, loss, optimizer,
                     validation, dropIn, dropHidden, shift, limit, checkpoint, resume, log, plot, json, backend, accelerator, gradBits, gradScale, gradLayers, bn, actQuant, weightQuant, minutes, preset,
                     layers, hidden, embed, bptt, gateBits, cellBits, dropout, clip })
            command.Options.Add(o);
        command.SetAction(parse => Cli.Run("train", () =>
        {
            string outPath = parse.GetValue(output)!;
            bool Given(Option o) => parse.GetResult(o) is { Implicit: false };
            if (SequenceArchitectures.IsSequence(parse.GetValue(arch)!))
            {
                Option[] imageOnly = [imageSize, channels, width, loss, validation, dropIn, dropHidden, shift, limit, accelerator, gradBits, gradScale, gradLayers, bn, actQuant, weightQuant, preset];
                if (imageOnly.FirstOrDefault(Given) is { } image)
                    throw new UserError($"{image.Name} is an option of the image architectures, not of --arch {parse.GetValue(arch)}");
                string corpus = parse.GetValue(dataset)!;
                if (!TextCorpusLoader.IsText(corpus))
                    throw new UserError($"--arch {parse.GetValue(arch)} trains on a text corpus: --dataset {TextCorpusLoader.Forms} (not {corpus})");
                TrainOptions lm;
                try
                {
                    lm = new TrainOptions
                    {
                        Dataset = corpus, Arch = parse.GetValue(arch)!.ToLowerInvariant(), Epochs = parse.GetValue(epochs),
                        WeightBits = Given(weightBits) ? parse.GetValue(weightBits) : 4, ActBits = Given(actBits) ? parse.GetValue(actBits) : 4,
                        Batch = Given(batch) ? parse.GetValue(batch) : SequenceArchitectures.DefaultBatch,
                        Lr = Given(lr) ? parse.GetValue(lr) : SequenceArchitectures.DefaultLr, LrEnd = Given(lrEnd) ? parse.GetValue(lrEnd) : SequenceArchitectures.DefaultLrEnd,
                        Seed = parse.GetValue(seed), Optimizer = parse.GetValue(optimizer)!, Backend = parse.GetValue(backend)!, Minutes = parse.GetValue(minutes),
                        Layers = parse.GetValue(layers), Hidden = parse.GetValue(hidden), Embed = parse.GetValue(embed), Bptt = parse.GetValue(bptt),
                        GateBits = parse.GetValue(gateBits), CellBits = parse.GetValue(cellBits), Dropout = parse.GetValue(dropout), Clip = parse.GetValue(clip),
                        Loss = "softmax_cross_entropy", Shift = 0, Validation = 0,
                    };
                    lm.Validate();
                }
                catch (ArgumentException e)
                {
                    throw new UserError(e.Message);
                }
                return LanguageModelTraining.Train(lm, outPath, parse.GetValue(checkpoint) ?? outPath + ".ckpt", parse.GetValue(resume),
                    parse.GetValue(log) ?? outPath + ".log.csv", parse.GetValue(plot) ?? outPath + ".png", parse.GetValue(json));
            }
            Option[] sequenceOnly = [layers, hidden, embed, bptt, gateBits, cellBits, dropout, clip];
            if (sequenceOnly.FirstOrDefault(Given) is { } sequence)
                throw new UserError($"{sequence.Name} is an option of the language models (--arch {string.Join(" or ", SequenceArchitectures.All.Keys)}), not of --arch {parse.GetValue(arch)}");
            TrainOptions options;
            try
            {
                // An architecture may name its paper's batch size; an explicit --batch wins.
                int archBatch = Architectures.Get(parse.GetValue(arch)!).DefaultBatch;
                // And its own epoch count (the default MLP's schedule); an explicit --epochs wins.
                int archEpochs = Architectures.Get(parse.GetValue(arch)!).DefaultEpochs;
                options = new TrainOptions
                {
                    Dataset = parse.GetValue(dataset)!, ImageSize = parse.GetValue(imageSize) ?? "", Channels = parse.GetValue(channels),
                    Arch = parse.GetValue(arch)!, Epochs = Given(epochs) || archEpochs == 0 ? parse.GetValue(epochs) : archEpochs, Width = parse.GetValue(width),
                    WeightBits = parse.GetValue(weightBits), ActBits = parse.GetValue(actBits), Batch = parse.GetResult(batch) is { Implicit: false } || archBatch == 0 ? parse.GetValue(batch) : archBatch, Lr = parse.GetValue(lr),
                    LrEnd = parse.GetValue(lrEnd), Seed = parse.GetValue(seed), Loss = parse.GetValue(loss)!, Optimizer = parse.GetValue(optimizer)!,
                    Validation = parse.GetValue(validation), InputDropout = parse.GetValue(dropIn), HiddenDropout = parse.GetValue(dropHidden),
                    Shift = parse.GetValue(shift), TrainLimit = parse.GetValue(limit),
                    Backend = Qnn.Trainer.Gpu.IlgpuBackend.BackendName(parse.GetValue(backend)!, parse.GetValue(accelerator)),
                    GradBits = parse.GetValue(gradBits), GradScale = parse.GetValue(gradScale)!.ToLowerInvariant(), GradLayers = parse.GetValue(gradLayers)!.ToLowerInvariant(), BatchNorm = parse.GetValue(bn)!, ActQuant = parse.GetValue(actQuant)!,
                    WeightQuant = parse.GetValue(weightQuant)!,
                    Minutes = parse.GetValue(minutes),
                };
                // AdaMax's steps are smaller than Adam's at the same rate (it divides by max |g|, not the RMS): its own default.
                if (parse.GetResult(lr) is not { Implicit: false } && options.Optimizer.Equals("adamax-shift", StringComparison.OrdinalIgnoreCase))
                    options = options with { Lr = Qnn.Trainer.LowPrecision.AdaMaxShift.DefaultLearningRate };
                if (parse.GetValue(preset) is { } presetName)
                {
                    if (!Presets.All.ContainsKey(presetName))
                        throw new ArgumentException($"--preset: unknown preset \"{presetName}\" (known: {string.Join(", ", Presets.All.Keys)})");
                    // A preset sets every hyper-parameter: an option that would change one is refused, not silently ignored.
                    Option[] hyper = [arch, width, weightBits, actBits, batch, lr, lrEnd, loss, optimizer, validation, dropIn, dropHidden, shift, gradBits, gradScale, gradLayers, bn, actQuant, weightQuant];
                    if (hyper.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } given)
                        throw new ArgumentException($"{given.Name}: --preset {presetName} sets it (only --epochs and --minutes shorten a preset)");
                    options = Presets.Apply(presetName, options, parse.GetResult(epochs) is { Implicit: false } ? options.Epochs : null, options.Minutes);
                }
                options.Validate();     // every range, before the data is loaded
                DatasetSource.Request(options.ImageSize, options.Channels);
            }
            catch (ArgumentException e)
            {
                throw new UserError(e.Message);
            }
            // The default hold-out shrinks to a tenth of a small training set; a preset's (the paper's 10,000 of MNIST) is kept.
            bool defaultValidation = parse.GetResult(validation) is not { Implicit: false } && parse.GetValue(preset) is null;
            return Train(options, defaultValidation, outPath, parse.GetValue(checkpoint) ?? outPath + ".ckpt", parse.GetValue(resume),
                parse.GetValue(log) ?? outPath + ".log.csv", parse.GetValue(plot) ?? outPath + ".png", parse.GetValue(json));
        }));
        return command;
    }

    private static int Train(TrainOptions options, bool defaultValidation, string outPath, string checkpointPath, bool resume, string logPath, string plotPath, bool json)
    {
        // Every output is checked before the data is loaded, so that a bad path costs seconds, not a training run.
        OutputFile.CheckAll([("--out", outPath), ("--checkpoint", checkpointPath), ("--log", logPath), ("--plot", plotPath)], []);
        if (resume && !File.Exists(checkpointPath)) throw new UserError($"{checkpointPath}: no checkpoint to resume from");
        var data = DatasetSource.Load(options.Dataset, DatasetSource.Request(options.ImageSize, options.Channels));
        // The default hold-out is MNIST's 5,000; a small image folder keeps nine tenths of its images for training.
        if (defaultValidation) options = options with { Validation = Math.Min(options.Validation, data.Train.Count / 10) };
        TrainingLoop trainer;
        try
        {
            trainer = new TrainingLoop(options, data.Train) { CheckpointPath = checkpointPath, EpochDone = h => WriteLogAndPlot(h, logPath, plotPath, options) };
        }
        catch (ArgumentException e)
        {
            throw new UserError(e.Message);
        }
        using var _ = trainer;
        // Progress and tables go to stderr, so that --json leaves stdout to the summary.
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        console.MarkupLine($"[bold]qnn train[/] {Markup.Escape(options.Arch)} on {Markup.Escape(options.Dataset)}: {trainer.TrainCount} training, " +
                           $"{trainer.ValidationCount} validation, {data.Test.Count} test samples; {options.Epochs} epochs, batch {options.Batch}, seed {options.Seed}");
        console.WriteLine(trainer.Network.Summary());
        if (resume)
        {
            var saved = Checkpoint.ReadHeader(checkpointPath);
            if (saved.Options with { Minutes = options.Minutes } == options)
                console.MarkupLine(Markup.Escape(saved.Epoch >= options.Epochs
                    ? $"resuming from {checkpointPath}: all {options.Epochs} epochs are done; exporting"
                    : $"resuming from {checkpointPath}: epoch {saved.Epoch + 1}/{options.Epochs}, batch {saved.Batch}/{trainer.TrainCount / options.Batch} done, step {saved.Steps}"));
        }

        TrainOutcome? outcome = RunWithProgress(console, checkpointPath, (progress, cancel) => trainer.Run(progress, cancel, resume), (task, p) =>
        {
            if (p.Batch != p.Batches && p.Batch % 20 != 0) return;
            task.Description = Markup.Escape(
                $"epoch {p.Epoch + 1}/{p.Epochs} batch {p.Batch}/{p.Batches}  loss {p.Loss:F4}  acc {100 * p.Accuracy:F2}%  " +
                $"{p.SamplesPerSecond:F0} samples/s  ETA {p.Eta:hh\\:mm\\:ss}");
            task.Value = (p.Epoch + (double)p.Batch / p.Batches) / p.Epochs;
        });
        if (outcome is null) return 130;
        var summary = TrainPipeline.Finish(trainer, outcome, data.Test, outPath, DeployedEvaluation.Accuracy);
        if (json)
        {
            Cli.PrintJson(summary);
            return 0;
        }
        var table = new Table().HideHeaders().AddColumn("").AddColumn("");
        table.AddRow("model", Markup.Escape($"{summary.Model} ({summary.ModelBytes} bytes, id {summary.ModelId})"));
        table.AddRow("deployed test accuracy", $"{100 * summary.TestAccuracy:F2}% (runtime-edge, {summary.TestCount} images)");
        table.AddRow("float test accuracy", $"{100 * summary.FloatAccuracy:F2}% (training graph, inference mode)");
        table.AddRow("validation accuracy", $"{100 * summary.ValAccuracy:F2}% (best epoch {summary.BestEpoch})");
        table.AddRow("training time", $"{summary.TrainSeconds:F0} s");
        table.AddRow("log, plot", Markup.Escape($"{logPath}, {plotPath}"));
        AnsiConsole.Write(table);
        return 0;
    }

    private static void WriteLogAndPlot(IReadOnlyList<EpochRecord> history, string logPath, string plotPath, TrainOptions o)
    {
        EpochLog.Write(logPath, history);
        SavePlot(history, logPath, plotPath, $"{o.Arch} w{o.WeightBits}a{o.ActBits} on {o.Dataset}");
    }

    /// <summary>The training plot after an epoch; a machine without the native drawing library keeps the CSV log only.</summary>
    internal static void SavePlot(IReadOnlyList<EpochRecord> history, string logPath, string plotPath, string title)
    {
        try
        {
            TrainingPlot.Save(plotPath, history, title);
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException)
        {
            Console.Error.WriteLine($"qnn train: could not draw {plotPath} ({e.Message}); the CSV log is {logPath}");
        }
    }

    /// <summary>
    /// Runs a training loop under the progress bar of <paramref name="console"/>; <paramref name="show"/> updates the
    /// bar on the training thread. Ctrl-C lets the loop reach a batch boundary and save its checkpoint: the message
    /// says how to continue and the result is null (exit 130). A diverged run or an unreadable checkpoint is one line.
    /// </summary>
    internal static TrainOutcome? RunWithProgress(IAnsiConsole console, string checkpointPath,
        Func<IProgress<TrainProgress>, CancellationToken, TrainOutcome> run, Action<ProgressTask, TrainProgress> show)
    {
        using var cts = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;     // let the loop reach a batch boundary and save a checkpoint
            cts.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            return console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask("starting", maxValue: 1.0);
                    return run(new SyncProgress<TrainProgress>(p => show(task, p)), cts.Token);
                });
        }
        catch (NonFiniteTrainingException e)
        {
            throw new UserError(e.Message);
        }
        catch (InvalidDataException e)
        {
            throw new UserError(e.Message);
        }
        catch (OperationCanceledException)
        {
            console.MarkupLine($"[yellow]interrupted[/]: checkpoint saved to {Markup.Escape(checkpointPath)}; continue with the same options and --resume");
            return null;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>Reports on the training thread (Progress&lt;T&gt; would post to the thread pool and lag behind).</summary>
    internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
