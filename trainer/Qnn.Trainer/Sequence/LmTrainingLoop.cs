using System.Diagnostics;
using System.Globalization;
using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;
using Qnn.Trainer.Training;

namespace Qnn.Trainer.Sequence;

/// <summary>A tokenized corpus as the language-model trainer reads it: the vocabulary (id → token) and the three splits.</summary>
public sealed record LmCorpus(string Name, IReadOnlyList<string> Vocabulary, int[] Train, int[] Valid, int[] Test);

/// <summary>
/// Trains a <see cref="LanguageModel"/> by truncated back-propagation through time: the training split cut into
/// --batch streams, read in segments of --bptt steps with the state carried from one segment to the next (each epoch
/// starts empty), softmax cross-entropy, the global gradient norm clipped to --clip, Adam with the per-epoch
/// exponential learning-rate decay of the feed-forward trainer, validation perplexity after every epoch, the same
/// checkpoints (<see cref="Checkpoint"/>: checksummed, atomic, mid-epoch on cancellation, with the carried state)
/// and the best-validation parameters restored at the end. --minutes stops at the first segment past the budget
/// (an epoch of a corpus may be longer than the budget), validates and ends there.
/// </summary>
public sealed class LmTrainingLoop
{
    private readonly LmCorpus corpus;
    private readonly Parameter[] parameters;
    private readonly TokenStreams train;
    private readonly CpuBackend backend = new();

    public LmTrainingLoop(TrainOptions options, LmCorpus corpus)
    {
        options.Validate();
        Options = options;
        this.corpus = corpus;
        Shape = SequenceArchitectures.Shape(options, corpus.Vocabulary.Count);
        train = new TokenStreams(corpus.Train, options.Batch);
        if (train.Length < 2)
            throw new ArgumentException($"the training split of {corpus.Name} has {corpus.Train.Length} tokens, too few for --batch {options.Batch} streams");
        Model = new LanguageModel(Shape, options.Batch, options.Seed);
        Model.InitializeUnigramBias(corpus.Train);
        parameters = Model.Parameters.ToArray();
        Optimizer = Registry.Get(Registry.Optimizers, options.Optimizer, "optimizer")(backend);
    }

    public TrainOptions Options { get; }
    public LmShape Shape { get; }
    public LanguageModel Model { get; }
    public Optimizer Optimizer { get; }
    public string? CheckpointPath { get; init; }
    public bool CheckpointOnCancel { get; init; } = true;
    public Action<IReadOnlyList<EpochRecord>>? EpochDone { get; init; }
    /// <summary>Segments of one epoch.</summary>
    public int Batches => train.Segments(Options.Bptt);
    public long TrainTokens => train.Predictions;

    private IReadOnlyList<Tensor> CheckpointTensors() =>
        parameters.Select(p => p.Value).Concat(Model.State).Concat(Optimizer.State(parameters)).ToArray();

    private List<float[]> Snapshot() => parameters.Select(p => (float[])SequenceParameters.Data(p).Clone()).ToList();

    private void Restore(List<float[]> snapshot)
    {
        for (int i = 0; i < parameters.Length; i++) snapshot[i].CopyTo(SequenceParameters.Data(parameters[i]), 0);
    }

    /// <summary>
    /// Mean loss (nats per token) and next-token accuracy of the float graph in inference mode on
    /// <paramref name="tokens"/>, read as <see cref="TokenStreams"/> of --batch streams, each starting empty.
    /// </summary>
    public (double Loss, double Accuracy) Evaluate(int[] tokens) => Evaluate(tokens, out _);

    /// <summary>The same, with every prediction's loss in prediction order (index step · streams + stream).</summary>
    public (double Loss, double Accuracy) Evaluate(int[] tokens, out double[] losses)
    {
        var streams = new TokenStreams(tokens, Options.Batch);
        Model.ResetState();
        int bptt = Options.Bptt;
        var inputs = new int[bptt * streams.Streams];
        var targets = new int[bptt * streams.Streams];
        losses = new double[streams.Predictions];
        long ok = 0;
        for (int s = 0; s < streams.Segments(bptt); s++)
        {
            int t = streams.Segment(s, bptt, inputs, targets);
            var logits = Model.Forward(inputs, t, streams.Streams, false, 0);
            ok += LmLoss.Evaluate(logits, targets, t * streams.Streams, Shape.Vocab, losses, s * bptt * streams.Streams, null, 1);
        }
        Model.ResetState();
        return (LmLoss.Mean(losses), (double)ok / Math.Max(1, losses.Length));
    }

    private sealed class RunState(CheckpointHeader header, List<float[]> best)
    {
        public List<EpochRecord> History { get; } = new(header.History);
        public double BestVal { get; set; } = header.BestValAccuracy;
        public int BestEpoch { get; set; } = header.BestEpoch;
        public List<float[]> Best { get; set; } = best;
    }

    /// <summary>Trains (or resumes from <see cref="CheckpointPath"/>) to the last epoch or the time budget.</summary>
    public TrainOutcome Run(IProgress<TrainProgress>? progress = null, CancellationToken cancel = default, bool resume = false)
    {
        var (header, run) = Start(resume);
        int batches = Batches, bptt = Options.Bptt, streams = Options.Batch;
        var inputs = new int[bptt * streams];
        var targets = new int[bptt * streams];
        var dLogits = new float[bptt * streams * Shape.Vocab];
        var rowLosses = new double[bptt * streams];
        var total = Stopwatch.StartNew();
        long tokensThisSession = 0;
        double budget = Options.Minutes * 60;
        bool outOfTime = false;
        for (int epoch = header.Epoch; epoch < Options.Epochs && !outOfTime; epoch++)
        {
            bool resumedHere = epoch == header.Epoch;
            int first = resumedHere ? header.Batch : 0;
            double lossSum = resumedHere ? header.PartialLoss : 0, prior = resumedHere ? header.PartialSeconds : 0;
            long correct = resumedHere ? header.PartialCorrect : 0, seen = resumedHere ? header.PartialSeen : 0;
            if (first == 0) Model.ResetState();
            float lr = Options.LearningRate(epoch);
            var clock = Stopwatch.StartNew();
            for (int b = first; b < batches; b++)
            {
                if (cancel.IsCancellationRequested)
                {
                    if (CheckpointOnCancel && CheckpointPath != null)
                        Save(new CheckpointHeader
                        {
                            Options = Options, Epoch = epoch, Batch = b, Steps = Optimizer.Steps, PartialLoss = lossSum, PartialCorrect = correct,
                            PartialSeen = seen, PartialSeconds = prior + clock.Elapsed.TotalSeconds, History = run.History,
                            BestValAccuracy = run.BestVal, BestEpoch = run.BestEpoch, HasBest = run.Best.Count > 0,
                        }, run.Best, epoch, b);
                    cancel.ThrowIfCancellationRequested();
                }
                int t = train.Segment(b, bptt, inputs, targets);
                int rows = t * streams;
                Model.ZeroGradients();
                var logits = Model.Forward(inputs, t, streams, true, Optimizer.Steps);
                int c = LmLoss.Evaluate(logits, targets, rows, Shape.Vocab, rowLosses, 0, dLogits, rows);
                double l = 0;
                for (int r = 0; r < rows; r++) l += rowLosses[r];
                if (!double.IsFinite(l)) throw NonFinite(epoch, b, $"the training loss is {l.ToString(CultureInfo.InvariantCulture)} (try a smaller --lr)");
                Model.Backward(dLogits);
                ClipGradients();
                Optimizer.Step(parameters, lr);
                lossSum += l;
                correct += c;
                seen += rows;
                tokensThisSession += rows;
                if (progress != null)
                {
                    double rate = tokensThisSession / Math.Max(1e-9, total.Elapsed.TotalSeconds);
                    long remaining = (long)(batches - b - 1) * bptt * streams + (long)(Options.Epochs - epoch - 1) * train.Predictions;
                    double eta = remaining / Math.Max(1e-9, rate);
                    if (budget > 0) eta = Math.Min(eta, Math.Max(0, budget - run.History.Sum(e => e.Seconds) - prior - clock.Elapsed.TotalSeconds));
                    progress.Report(new TrainProgress(epoch, Options.Epochs, b + 1, batches, lossSum / seen, (double)correct / seen, rate,
                        TimeSpan.FromSeconds(eta), lr));
                }
                if (budget > 0 && run.History.Sum(e => e.Seconds) + prior + clock.Elapsed.TotalSeconds >= budget)
                {
                    outOfTime = true;
                    break;
                }
            }
            EndEpoch(epoch, lr, lossSum / Math.Max(1, seen), (double)correct / Math.Max(1, seen), prior + clock.Elapsed.TotalSeconds, seen, run);
        }
        if (run.Best.Count > 0) Restore(run.Best);
        return new TrainOutcome(run.History, run.BestEpoch + 1, run.BestVal, total.Elapsed);
    }

    /// <summary>Scales every gradient by clip / ‖g‖ when the global norm ‖g‖ exceeds --clip (0: no clipping).</summary>
    private void ClipGradients()
    {
        double sq = 0;
        foreach (var p in parameters)
        {
            var g = SequenceParameters.Gradient(p);
            double s = 0;
            for (int i = 0; i < g.Length; i++) s += (double)g[i] * g[i];
            sq += s;
        }
        if (!double.IsFinite(sq)) throw new NonFiniteTrainingException($"a gradient is not finite (step {Optimizer.Steps + 1}; try a smaller --lr)");
        double norm = Math.Sqrt(sq);
        if (Options.Clip <= 0 || norm <= Options.Clip) return;
        float f = (float)(Options.Clip / norm);
        foreach (var p in parameters)
        {
            var g = SequenceParameters.Gradient(p);
            for (int i = 0; i < g.Length; i++) g[i] *= f;
        }
    }

    private void EndEpoch(int epoch, float lr, double trainLoss, double trainAcc, double seconds, long tokens, RunState run)
    {
        var (valLoss, valAcc) = corpus.Valid.Length > Options.Batch ? Evaluate(corpus.Valid) : (double.NaN, double.NaN);
        if (double.IsNaN(valLoss) && corpus.Valid.Length > Options.Batch) throw NonFinite(epoch, Batches - 1, "the validation loss is NaN");
        // Higher is better in the header's BestValAccuracy: a language model keeps −(validation loss).
        double score = double.IsNaN(valLoss) ? -trainLoss : -valLoss;
        if (run.Best.Count == 0 || score > run.BestVal)
        {
            run.BestVal = score;
            run.BestEpoch = epoch;
            run.Best = Snapshot();
        }
        run.History.Add(new EpochRecord(epoch + 1, lr, trainLoss, trainAcc, valLoss, valAcc, seconds) { Samples = tokens });
        if (CheckpointPath != null)
            Save(new CheckpointHeader
            {
                Options = Options, Epoch = epoch + 1, Batch = 0, Steps = Optimizer.Steps, History = run.History,
                BestValAccuracy = run.BestVal, BestEpoch = run.BestEpoch, HasBest = true,
            }, run.Best, epoch, Batches - 1);
        EpochDone?.Invoke(run.History);
    }

    private void Save(CheckpointHeader header, List<float[]> best, int epoch, int batch)
    {
        var state = CheckpointTensors().Select(t => (float[])((CpuTensor)t).Data.Clone()).ToList();
        foreach (var s in state)
            if (TrainingLoop.FirstNonFinite(s) >= 0) throw NonFinite(epoch, batch, "a parameter or moment is not finite");
        Checkpoint.Save(CheckpointPath!, header, state, best);
    }

    private (CheckpointHeader Header, RunState Run) Start(bool resume)
    {
        if (!resume) return (new CheckpointHeader { Options = Options }, new RunState(new CheckpointHeader { Options = Options }, []));
        if (CheckpointPath is null) throw new ArgumentException("resume needs a checkpoint path");
        var saved = Checkpoint.ReadHeader(CheckpointPath);
        if (saved.Options with { Minutes = Options.Minutes } != Options)
            throw new InvalidDataException($"{CheckpointPath}: the checkpoint was made with other options ({saved.Options.Arch}, hidden {saved.Options.Hidden}, " +
                                           $"{saved.Options.WeightBits}/{saved.Options.ActBits} bits, seed {saved.Options.Seed}), not these");
        var (header, best) = Checkpoint.Load(CheckpointPath, CheckpointTensors(), backend);
        Optimizer.Steps = header.Steps;
        return (header, new RunState(header, best));
    }

    private NonFiniteTrainingException NonFinite(int epoch, int batch, string cause) =>
        new($"epoch {epoch + 1}/{Options.Epochs}, segment {batch + 1}/{Batches}: {cause}; training stopped" +
            (CheckpointPath is not null && File.Exists(CheckpointPath) ? $"; {CheckpointPath} keeps the last good state" : ""));
}
