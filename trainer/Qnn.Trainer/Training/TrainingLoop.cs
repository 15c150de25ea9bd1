using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using Qnn.Datasets;
using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;

namespace Qnn.Trainer.Training;

/// <summary>What the progress display shows, sent after every batch.</summary>
public readonly record struct TrainProgress(int Epoch, int Epochs, int Batch, int Batches, double Loss, double Accuracy,
    double SamplesPerSecond, TimeSpan Eta, double LearningRate);

/// <summary>
/// Training met a NaN or an infinity (in the loss, a learning rate, or the parameters after the updates): the run
/// stopped before writing anything from that state. The message is one line naming the epoch, the batch and the cause.
/// </summary>
public sealed class NonFiniteTrainingException(string message) : ArithmeticException(message);

/// <summary>The outcome of <see cref="Trainer.Run"/>.</summary>
public sealed record TrainOutcome(List<EpochRecord> History, int BestEpoch, double BestValAccuracy, TimeSpan Elapsed);

/// <summary>
/// The training loop: seeded shuffles, mini-batches, the loss, backward, the optimizer with the per-epoch exponential
/// learning-rate decay, validation after every epoch, a checkpoint after every epoch (and on cancellation), and the
/// best-validation parameters restored at the end (the paper reports the test error at the best validation epoch).
/// Every random choice is a function of (seed, epoch, step), so a resumed run is bit-identical to an uninterrupted one.
/// A non-finite loss, learning rate or parameter stops the run with a <see cref="NonFiniteTrainingException"/> before
/// any checkpoint is written from that state, so the last checkpoint stays the last good one.
/// </summary>
public sealed class TrainingLoop : IDisposable
{
    private readonly Dataset train;
    private readonly int trainCount, valStart, valCount;
    private readonly Parameter[] parameters;
    private readonly LossKind lossKind;

    public TrainingLoop(TrainOptions options, Dataset trainingSet)
    {
        Options = options;
        train = trainingSet;
        options.Validate();
        if (options.Shift >= Math.Min(trainingSet.Height, trainingSet.Width))
            throw new ArgumentException($"shift must be 0 to {Math.Min(trainingSet.Height, trainingSet.Width) - 1} pixels for {trainingSet.Height}x{trainingSet.Width} images " +
                "(--shift moves the training images by up to that many pixels; --shift 0 turns it off)");
        int count = trainingSet.Count;
        if (count - (long)options.Validation < options.Batch)
            throw new ArgumentException($"--validation {options.Validation} leaves {Math.Max(0, count - options.Validation)} of the {count} training samples, " +
                $"fewer than one batch of {options.Batch} (--batch); use --validation {count - options.Batch} or less");
        valCount = options.Validation;
        valStart = count - valCount;
        trainCount = options.TrainLimit > 0 ? Math.Min(options.TrainLimit, valStart) : valStart;
        if (trainCount < options.Batch)
            throw new ArgumentException($"--train-limit {options.TrainLimit} leaves {trainCount} training samples, fewer than one batch of {options.Batch} (--batch)");
        lossKind = Registry.Get(Registry.Losses, options.Loss, "loss");
        var shape = new Shape(trainingSet.Height, trainingSet.Width, trainingSet.Channels);
        var layers = Architectures.Build(options.Arch, new ArchOptions(options.WeightBits, options.ActBits, options.Width,
            options.InputDropout, options.HiddenDropout, Quantization.ActivationQuantizers.Parse(options.ActQuant, options.ActBits),
            Quantization.WeightQuantizers.Parse(options.WeightQuant, options.WeightBits)),
            shape, trainingSet.ClassCount, out var resolved);
        layers = LowPrecision.LowPrecisionTraining.Apply(layers, options.GradBits, options.BatchNorm, options.Seed,
            scale: LowPrecision.GradientQuantization.ParseScale(options.GradScale),
            hiddenOnly: LowPrecision.GradientQuantization.ParseHiddenOnly(options.GradLayers));
        Arch = resolved;
        CheckMemory(MemoryEstimate.Of(layers, shape, options.Batch));
        var backend = Registry.Get(Registry.Backends, options.Backend, "backend")();
        Network = new Network(backend, shape, trainingSet.ClassCount, layers, options.Batch, options.Seed);
        parameters = Network.Parameters.ToArray();
        Optimizer = Registry.Get(Registry.Optimizers, options.Optimizer, "optimizer")(backend);
    }

    /// <summary>Refuses a network whose training would not fit: one line with the estimate, before anything is allocated.</summary>
    private void CheckMemory(MemoryEstimate.Estimate need)
    {
        string what = $"--width {Arch.Width}: the {Options.Arch} needs about {MemoryEstimate.Gb(need.Bytes)} to train with --batch {Options.Batch} " +
                      "(weights, gradients, Adam moments, snapshots, activations)";
        if (need.LargestTensor > MemoryEstimate.MaxTensorFloats)
            throw new ArgumentException($"{what}, and one tensor of {need.LargestTensor:N0} floats is over the {MemoryEstimate.MaxTensorFloats:N0} an array holds; use a smaller --width");
        if (need.CheckpointBytes > MemoryEstimate.MaxCheckpointBytes)
            throw new ArgumentException($"{what}, and its checkpoint of about {MemoryEstimate.Gb(need.CheckpointBytes)} is over the {MemoryEstimate.Gb(MemoryEstimate.MaxCheckpointBytes)} one checkpoint holds; use a smaller --width");
        long budget = MemoryEstimate.Budget;
        if (need.Bytes > budget)
            throw new ArgumentException($"{what}, over the {MemoryEstimate.Gb(budget)} it may use (3/4 of the memory available); use a smaller --width");
    }

    public TrainOptions Options { get; }
    public ArchOptions Arch { get; }
    public Network Network { get; }
    public Optimizer Optimizer { get; }

    /// <summary>Where checkpoints go (null: none).</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>On cancellation, save a checkpoint of the exact position (mid-epoch) before stopping (Ctrl-C).</summary>
    public bool CheckpointOnCancel { get; init; } = true;

    /// <summary>Called after every finished epoch (the CLI writes the log and the plot there).</summary>
    public Action<IReadOnlyList<EpochRecord>>? EpochDone { get; init; }

    public int TrainCount => trainCount;
    public int ValidationCount => valCount;

    private IReadOnlyList<Tensor> CheckpointTensors() =>
        parameters.Select(p => p.Value).Concat(Network.State).Concat(Optimizer.State(parameters)).ToArray();

    private IReadOnlyList<Tensor> SnapshotTensors() => parameters.Select(p => p.Value).Concat(Network.State).ToArray();

    private List<float[]> Snapshot() => SnapshotTensors().Select(t =>
    {
        var a = new float[t.Length];
        Network.Backend.Download(t, a);
        return a;
    }).ToList();

    private void Restore(List<float[]> snapshot)
    {
        var ts = SnapshotTensors();
        for (int i = 0; i < ts.Count; i++) Network.Backend.Upload(snapshot[i], ts[i]);
    }

    /// <summary>The permutation of the training samples for an epoch: a function of (seed, epoch) only.</summary>
    public int[] Permutation(int epoch)
    {
        var order = new int[trainCount];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        new Random(unchecked(Options.Seed * 1_000_003 + epoch * 7919 + 17)).Shuffle(order);
        return order;
    }

    /// <summary>What the run carries from epoch to epoch (and what a checkpoint saves of it).</summary>
    private sealed class RunState(CheckpointHeader header, List<float[]> best)
    {
        public List<EpochRecord> History { get; } = new(header.History);
        public double BestVal { get; set; } = header.BestValAccuracy;
        public int BestEpoch { get; set; } = header.BestEpoch;
        public List<float[]> Best { get; set; } = best;
    }

    /// <summary>The running sums of one epoch (restored mid-epoch by a resume).</summary>
    private struct EpochSums
    {
        public double Loss, PriorSeconds;
        public long Correct, Seen;
    }

    /// <summary>The host and device buffers of one mini-batch, allocated once per run.</summary>
    private sealed class BatchBuffers(IBackend backend, int batch, int classes, Dataset train, int shift) : IDisposable
    {
        public readonly float[] LabelsHost = new float[batch], LossHost = new float[batch], ScoresHost = new float[batch * classes];
        public readonly Tensor Labels = backend.Allocate(batch), Loss = backend.Allocate(batch), DScores = backend.Allocate(batch, classes);
        public readonly byte[] Augmented = shift > 0 ? new byte[batch * train.Height * train.Width * train.Channels] : [];
        public readonly int[] Identity = Enumerable.Range(0, batch).ToArray();

        public void Dispose()
        {
            Labels.Dispose();
            Loss.Dispose();
            DScores.Dispose();
        }
    }

    /// <summary>Trains (or resumes from <see cref="CheckpointPath"/> when <paramref name="resume"/>) to the last epoch.</summary>
    public TrainOutcome Run(IProgress<TrainProgress>? progress = null, CancellationToken cancel = default, bool resume = false)
    {
        var (header, run) = Start(resume);
        int batches = trainCount / Options.Batch;
        using var buffers = new BatchBuffers(Network.Backend, Options.Batch, Network.ClassCount, train, Options.Shift);
        var total = Stopwatch.StartNew();
        long samplesThisSession = 0;

        for (int epoch = header.Epoch; epoch < Options.Epochs; epoch++)
        {
            bool resumedHere = epoch == header.Epoch;
            int firstBatch = resumedHere ? header.Batch : 0;
            var sums = resumedHere
                ? new EpochSums { Loss = header.PartialLoss, Correct = header.PartialCorrect, Seen = header.PartialSeen, PriorSeconds = header.PartialSeconds }
                : new EpochSums();
            float lr = Options.LearningRate(epoch);
            if (!float.IsFinite(lr) || lr <= 0) throw NonFinite(epoch, firstBatch, $"the learning rate is {F(lr)}");
            var order = Permutation(epoch);
            var clock = Stopwatch.StartNew();
            for (int b = firstBatch; b < batches; b++)
            {
                if (cancel.IsCancellationRequested)
                {
                    if (CheckpointOnCancel && CheckpointPath != null) Save(epoch, b, sums, clock, run);
                    cancel.ThrowIfCancellationRequested();
                }
                TrainBatch(epoch, b, order.AsSpan(b * Options.Batch, Options.Batch), lr, buffers, ref sums);
                samplesThisSession += Options.Batch;
                if (progress != null)
                {
                    double rate = samplesThisSession / Math.Max(1e-9, total.Elapsed.TotalSeconds);
                    long remaining = (long)(batches - b - 1) * Options.Batch + (long)(Options.Epochs - epoch - 1) * batches * Options.Batch;
                    progress.Report(new TrainProgress(epoch, Options.Epochs, b + 1, batches, sums.Loss / sums.Seen, (double)sums.Correct / sums.Seen,
                        rate, TimeSpan.FromSeconds(remaining / Math.Max(1e-9, rate)), lr));
                }
            }
            EndEpoch(epoch, lr, sums, clock, run);
            // --minutes: stop at this epoch boundary once the logged training time (kept in the checkpoint, so a
            // resumed run counts it too) reaches the budget; the best-validation parameters are restored below.
            if (Options.Minutes > 0 && run.History.Sum(e => e.Seconds) >= Options.Minutes * 60) break;
        }
        if (run.Best.Count > 0) Restore(run.Best);
        return new TrainOutcome(run.History, run.BestEpoch + 1, run.BestVal, total.Elapsed);
    }

    /// <summary>A fresh start, or the checkpoint's position and state after checking that it was made with these options.</summary>
    private (CheckpointHeader Header, RunState Run) Start(bool resume)
    {
        if (!resume) return (new CheckpointHeader { Options = Options }, new RunState(new CheckpointHeader { Options = Options }, []));
        if (CheckpointPath is null) throw new ArgumentException("resume needs a checkpoint path");
        var saved = Checkpoint.ReadHeader(CheckpointPath);
        // --minutes is a budget, not a hyper-parameter: a resumed run may be given another one.
        if (saved.Options with { Minutes = Options.Minutes } != Options)
            throw new InvalidDataException($"{CheckpointPath}: the checkpoint was made with other options ({Describe(saved.Options)}), not {Describe(Options)}");
        var (header, best) = Checkpoint.Load(CheckpointPath, CheckpointTensors(), Network.Backend);
        Optimizer.Steps = header.Steps;
        return (header, new RunState(header, best));
    }

    /// <summary>One mini-batch: input (shifted when asked), forward, loss, backward, the finiteness checks, the update.</summary>
    private void TrainBatch(int epoch, int b, ReadOnlySpan<int> idx, float lr, BatchBuffers buf, ref EpochSums sums)
    {
        var backend = Network.Backend;
        int classes = Network.ClassCount;
        for (int i = 0; i < idx.Length; i++) buf.LabelsHost[i] = train.Labels[idx[i]];
        if (Options.Shift > 0)
        {
            ShiftAugmentation.Apply(train.Pixels, idx, train.Height, train.Width, train.Channels, Options.Shift, Options.Seed,
                Optimizer.Steps, buf.Augmented);
            Network.SetInput(buf.Augmented, buf.Identity);
        }
        else
        {
            Network.SetInput(train.Pixels, idx);
        }
        backend.Upload(buf.LabelsHost, buf.Labels);
        var scores = Network.Forward(Options.Batch, true, Optimizer.Steps);
        backend.LossForwardBackward(lossKind, scores, buf.Labels, Options.Batch, classes, buf.Loss, buf.DScores);
        backend.Download(buf.Loss, buf.LossHost);
        backend.Download(scores, buf.ScoresHost);
        int badLoss = Array.FindIndex(buf.LossHost, v => !float.IsFinite(v));
        if (badLoss >= 0)
            throw NonFinite(epoch, b, $"the training loss of sample {idx[badLoss]} is {F(buf.LossHost[badLoss])} (the scores overflowed; try a smaller --lr)");
        Network.Backward(buf.DScores, Options.Batch);
        if (NonFiniteGradient() is { } badGradient) throw NonFinite(epoch, b, badGradient);
        Optimizer.Step(parameters, lr);
        for (int i = 0; i < Options.Batch; i++)
        {
            sums.Loss += buf.LossHost[i];
            if (Network.ArgMax(buf.ScoresHost.AsSpan(i * classes, classes)) == (int)buf.LabelsHost[i]) sums.Correct++;
        }
        sums.Seen += Options.Batch;
    }

    /// <summary>An epoch's end: the parameters checked, validation (keeping the best parameters), the log, the checkpoint.</summary>
    private void EndEpoch(int epoch, float lr, EpochSums sums, Stopwatch clock, RunState run)
    {
        int batches = trainCount / Options.Batch;
        // The updates of the last batch are in no loss yet: the parameters themselves are checked before they are used or saved.
        var state = Download(CheckpointTensors());
        if (NonFiniteState(state) is { } bad) throw NonFinite(epoch, batches - 1, $"{bad} after this epoch's updates (a gradient or the learning rate {F(lr)} overflowed)");
        double valLoss = double.NaN, valAcc = double.NaN;
        if (valCount > 0)
        {
            int ok = Network.Evaluate(train.Pixels, train.Labels, valStart, valCount, default, out double vl, lossKind);
            valLoss = vl / valCount;
            if (!double.IsFinite(valLoss)) throw NonFinite(epoch, batches - 1, $"the validation loss is {F(valLoss)} (the scores overflowed; try a smaller --lr)");
            valAcc = (double)ok / valCount;
            if (valAcc > run.BestVal)
            {
                run.BestVal = valAcc;
                run.BestEpoch = epoch;
                run.Best = Snapshot();
            }
        }
        run.History.Add(new EpochRecord(epoch + 1, lr, sums.Loss / Math.Max(1, sums.Seen), (double)sums.Correct / Math.Max(1, sums.Seen), valLoss, valAcc,
            sums.PriorSeconds + clock.Elapsed.TotalSeconds));
        if (CheckpointPath != null)
            Checkpoint.Save(CheckpointPath, new CheckpointHeader
            {
                Options = Options, Epoch = epoch + 1, Batch = 0, Steps = Optimizer.Steps, History = run.History,
                BestValAccuracy = run.BestVal, BestEpoch = run.BestEpoch, HasBest = run.Best.Count > 0,
            }, state, run.Best);
        EpochDone?.Invoke(run.History);
    }

    /// <summary>
    /// On the CPU backend the gradients are host arrays, so they are checked after every batch, before the update
    /// (one vectorized pass: 0.2 ms for the 2.9 M weights of the default MLP, against about 150 ms for its step on two cores). Other backends would
    /// need a download per batch: there the parameters are checked at every epoch's end instead.
    /// </summary>
    private string? NonFiniteGradient()
    {
        foreach (var p in parameters)
            if (p.Gradient is CpuTensor g && FirstNonFinite(g.Data) is int at and >= 0)
                return $"the gradient of {p.Name} holds {F(g.Data[at])} (the loss or a layer's backward overflowed; try a smaller --lr)";
        return null;
    }

    /// <summary>The index of the first NaN or infinity in <paramref name="values"/>, or -1; vectorized (x · 0 is 0 only for finite x).</summary>
    public static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vectors = MemoryMarshal.Cast<float, Vector<float>>(values);
            var acc = Vector<float>.Zero;
            foreach (var v in vectors) acc += v * Vector<float>.Zero;
            if (Vector.EqualsAll(acc, Vector<float>.Zero)) i = vectors.Length * Vector<float>.Count;
        }
        for (; i < values.Length; i++)
            if (!float.IsFinite(values[i])) return i;
        return -1;
    }

    /// <summary>Saves the exact position (on cancellation, mid-epoch), unless the state is no longer finite.</summary>
    private void Save(int epoch, int batch, EpochSums sums, Stopwatch clock, RunState run)
    {
        var state = Download(CheckpointTensors());
        if (NonFiniteState(state) is { } bad) throw NonFinite(epoch, batch, $"{bad} (a gradient or the learning rate overflowed)");
        Checkpoint.Save(CheckpointPath!, new CheckpointHeader
        {
            Options = Options, Epoch = epoch, Batch = batch, Steps = Optimizer.Steps, PartialLoss = sums.Loss,
            PartialCorrect = sums.Correct, PartialSeen = sums.Seen, PartialSeconds = sums.PriorSeconds + clock.Elapsed.TotalSeconds,
            History = run.History, BestValAccuracy = run.BestVal, BestEpoch = run.BestEpoch, HasBest = run.Best.Count > 0,
        }, state, run.Best);
    }

    private List<float[]> Download(IReadOnlyList<Tensor> tensors) => tensors.Select(t =>
    {
        var a = new float[t.Length];
        Network.Backend.Download(t, a);
        return a;
    }).ToList();

    /// <summary>Null when every value is finite, else which state holds the first value that is not.</summary>
    private string? NonFiniteState(List<float[]> state)
    {
        int parameterCount = parameters.Length, stateCount = Network.State.Count();
        for (int i = 0; i < state.Count; i++)
        {
            int at = FirstNonFinite(state[i]);
            if (at < 0) continue;
            string what = i < parameterCount ? $"parameter {parameters[i].Name}" : i < parameterCount + stateCount ? "a running statistic" : "an optimizer moment";
            return $"{what} holds {F(state[i][at])}";
        }
        return null;
    }

    /// <summary>A number in a message, the same on every machine (NaN, Infinity, not the culture's symbols).</summary>
    private static string F(double value) => value.ToString(CultureInfo.InvariantCulture);

    private static string F(float value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The stop: one line with the epoch and batch (1-based), the cause, and what is left on disk.</summary>
    private NonFiniteTrainingException NonFinite(int epoch, int batch, string cause)
    {
        string kept = CheckpointPath is null ? "" : File.Exists(CheckpointPath)
            ? $"; {CheckpointPath} keeps the last good state"
            : $"; nothing was saved to {CheckpointPath}";
        return new NonFiniteTrainingException(
            $"epoch {epoch + 1}/{Options.Epochs}, batch {batch + 1}/{trainCount / Options.Batch}: {cause}; training stopped{kept}");
    }

    private static string Describe(TrainOptions o) =>
        $"{o.Arch}, width {o.Width}, {o.WeightBits}/{o.ActBits} bits, {o.Epochs} epochs, batch {o.Batch}, seed {o.Seed}, lr {o.Lr}";

    public void Dispose() => Network.Dispose();
}
