namespace Qnn.Trainer.Training;

/// <summary>Everything a training run is made from; a checkpoint stores it and a resume must match it.</summary>
public sealed record TrainOptions
{
    public string Dataset { get; init; } = "mnist";
    /// <summary>An image folder's --image-size (HxW) and --channels (1 or 3); empty and 0: the folder's defaults.</summary>
    public string ImageSize { get; init; } = "";
    public int Channels { get; init; }
    public string Arch { get; init; } = "mlp";
    public int Width { get; init; }
    public int WeightBits { get; init; } = 1;
    public int ActBits { get; init; } = 1;
    /// <summary>The activation quantizer by name: odd (default), sign, linear, stochastic (Quantization.ActivationQuantizers).</summary>
    public string ActQuant { get; init; } = "odd";
    /// <summary>The weight quantizer by name: odd (default), sign, log, stochastic (Quantization.WeightQuantizers).</summary>
    public string WeightQuant { get; init; } = "odd";
    /// <summary>The preset these options came from (Presets), "" when none; named in the model's metadata.</summary>
    public string Preset { get; init; } = "";
    /// <summary>-1: the architecture's default.</summary>
    public float InputDropout { get; init; } = -1f;
    public float HiddenDropout { get; init; } = -1f;
    public int Epochs { get; init; } = 40;
    /// <summary>
    /// The epochs the learning-rate schedule spans, 0 = <see cref="Epochs"/>. A preset sets it to the paper's epoch
    /// count, so that --epochs or --minutes stop the paper's run early without changing its learning rates.
    /// </summary>
    public int ScheduleEpochs { get; init; }
    /// <summary>Time budget: stop at the first epoch boundary after this many minutes of training (0 = none).</summary>
    public double Minutes { get; init; }
    public int Batch { get; init; } = 100;
    /// <summary>Learning rate of the first epoch; it decays exponentially to <see cref="LrEnd"/> at the last.</summary>
    public float Lr { get; init; } = 0.003f;
    public float LrEnd { get; init; } = 1e-5f;
    public int Seed { get; init; } = 1;
    public string Loss { get; init; } = "squared_hinge";
    public string Optimizer { get; init; } = "adam";
    public string Backend { get; init; } = "cpu";
    /// <summary>Bits of the quantized gradients (QNN paper), 32 = float gradients; see LowPrecision.GradientQuantization.</summary>
    public int GradBits { get; init; } = 32;
    /// <summary>"tensor" or "sample": the max-norm of the gradient quantizer (see LowPrecision.GradientScale).</summary>
    public string GradScale { get; init; } = "tensor";
    /// <summary>"all" or "hidden": which product layers get k-bit gradients ("hidden": not the first and the last).</summary>
    public string GradLayers { get; init; } = "all";
    /// <summary>"exact" or "shift" (the BNN paper's shift-based batch norm); see LowPrecision.ShiftBatchNorm.</summary>
    public string BatchNorm { get; init; } = "exact";
    /// <summary>Data augmentation: training images moved by up to this many pixels (see ShiftAugmentation); 0 = none.</summary>
    public int Shift { get; init; } = 1;
    /// <summary>Samples taken from the end of the training set for validation.</summary>
    public int Validation { get; init; } = 5000;
    /// <summary>Use at most this many training samples (0 = all); for quick runs and tests.</summary>
    public int TrainLimit { get; init; }

    // Language models (--arch lstm|gru, Sequence/): sizes, truncated BPTT, the gates' and the cell's bits, clipping, dropout.
    /// <summary>Hidden units of every recurrent layer, 0 = the default (256).</summary>
    public int Hidden { get; init; }
    /// <summary>Embedding size, 0 = the hidden size.</summary>
    public int Embed { get; init; }
    public int Layers { get; init; } = 1;
    /// <summary>Steps of truncated back-propagation through time.</summary>
    public int Bptt { get; init; } = 35;
    /// <summary>Gate bits g, 0 = the activation bits.</summary>
    public int GateBits { get; init; }
    /// <summary>LSTM cell bits s, 0 = the activation bits + 1.</summary>
    public int CellBits { get; init; }
    /// <summary>The global gradient norm is clipped to this (0 = no clipping).</summary>
    public float Clip { get; init; } = 1f;
    /// <summary>Dropout between a language model's layers.</summary>
    public float Dropout { get; init; }

    /// <summary>
    /// The range of every numeric option, next to the defaults above: the CLI's help and its errors read them here.
    /// The data set's own limits (--shift below the image side, --validation leaving a batch to train on) and the
    /// memory a --width needs (<see cref="MemoryEstimate"/>) are checked by <see cref="TrainingLoop"/> once the data is known.
    /// </summary>
    public static class Ranges
    {
        public static readonly OptionRange Epochs = new("--epochs", 1, 10_000);
        public static readonly OptionRange Width = new("--width", 1, 65_536, Sentinel: 0, SentinelMeaning: "the architecture's default");
        public static readonly OptionRange WeightBits = new("--weight-bits", 1, 4);
        public static readonly OptionRange ActBits = new("--act-bits", 1, 4);
        public static readonly OptionRange Batch = new("--batch", 1, 4096);
        public static readonly OptionRange Lr = new("--lr", 0, 1, Integer: false, MinOpen: true);
        public static readonly OptionRange LrEnd = new("--lr-end", 0, 1, Integer: false, MinOpen: true);
        public static readonly OptionRange InputDropout = new("--dropout-in", 0, 1, Integer: false, MaxOpen: true, Sentinel: -1, SentinelMeaning: "the architecture's default");
        public static readonly OptionRange HiddenDropout = new("--dropout-hidden", 0, 1, Integer: false, MaxOpen: true, Sentinel: -1, SentinelMeaning: "the architecture's default");
        public static readonly OptionRange Shift = new("--shift", 0, 64);
        public static readonly OptionRange Validation = new("--validation", 0, int.MaxValue);
        public static readonly OptionRange TrainLimit = new("--train-limit", 1, int.MaxValue, Sentinel: 0, SentinelMeaning: "all");
        public static readonly OptionRange GradBits = new("--grad-bits", 2, 16, Sentinel: 32, SentinelMeaning: "float gradients");
        public static readonly OptionRange Minutes = new("--minutes", 0, 1_000_000, Integer: false, MinOpen: true, Sentinel: 0, SentinelMeaning: "no time budget");
        public static readonly OptionRange ScheduleEpochs = new("the schedule's epochs", 1, 10_000, Sentinel: 0, SentinelMeaning: "--epochs");
        public static readonly OptionRange SequenceBits = new("--weight-bits and --act-bits", 1, 4, Sentinel: 32, SentinelMeaning: "the float baseline (both 32)");
        public static readonly OptionRange Hidden = new("--hidden", 1, 4096, Sentinel: 0, SentinelMeaning: "256");
        public static readonly OptionRange Embed = new("--embed", 1, 4096, Sentinel: 0, SentinelMeaning: "the hidden size");
        public static readonly OptionRange Layers = new("--layers", 1, 8);
        public static readonly OptionRange Bptt = new("--bptt", 1, 1000);
        public static readonly OptionRange GateBits = new("--gate-bits", 1, 8, Sentinel: 0, SentinelMeaning: "the activation bits");
        public static readonly OptionRange CellBits = new("--cell-bits", 1, 8, Sentinel: 0, SentinelMeaning: "the activation bits + 1");
        public static readonly OptionRange Clip = new("--clip", 0, 1_000_000, Integer: false);
        public static readonly OptionRange Dropout = new("--dropout", 0, 1, Integer: false, MaxOpen: true);
    }

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> with one line naming the first option out of its range (or an unknown
    /// name of an architecture, loss, optimizer, batch norm or backend); cheap, so callers run it before loading data.
    /// </summary>
    public void Validate()
    {
        if (Sequence.SequenceArchitectures.IsSequence(Arch))
        {
            ValidateSequence();
            return;
        }
        string? problem = Ranges.Epochs.Problem(Epochs) ?? Ranges.Width.Problem(Width) ?? Ranges.WeightBits.Problem(WeightBits)
            ?? Ranges.ActBits.Problem(ActBits) ?? Ranges.Batch.Problem(Batch) ?? Ranges.Lr.Problem(Lr) ?? Ranges.LrEnd.Problem(LrEnd)
            ?? Ranges.InputDropout.Problem(InputDropout) ?? Ranges.HiddenDropout.Problem(HiddenDropout) ?? Ranges.Shift.Problem(Shift)
            ?? Ranges.Validation.Problem(Validation) ?? Ranges.TrainLimit.Problem(TrainLimit) ?? Ranges.GradBits.Problem(GradBits)
            ?? Ranges.Minutes.Problem(Minutes) ?? Ranges.ScheduleEpochs.Problem(ScheduleEpochs);
        if (problem is not null) throw new ArgumentException(problem);
        Architectures.Get(Arch);
        Quantization.ActivationQuantizers.Parse(ActQuant, ActBits);
        Quantization.WeightQuantizers.Parse(WeightQuant, WeightBits);
        if (Preset != "") Presets.Get(Preset);
        Registry.Get(Registry.Losses, Loss, "loss");
        Registry.Get(Registry.Optimizers, Optimizer, "optimizer");
        Registry.Get(Registry.Backends, Backend, "backend");
        LowPrecision.GradientQuantization.ParseScale(GradScale);
        LowPrecision.GradientQuantization.ParseHiddenOnly(GradLayers);
        if (GradBits == LowPrecision.GradientQuantization.Off && (!GradScale.Equals("tensor", StringComparison.OrdinalIgnoreCase) || !GradLayers.Equals("all", StringComparison.OrdinalIgnoreCase)))
            throw new ArgumentException("--grad-scale and --grad-layers apply to quantized gradients: give --grad-bits 2-16 as well");
        if (!LowPrecision.LowPrecisionTraining.BatchNormKinds.Contains(BatchNorm, StringComparer.OrdinalIgnoreCase))
            throw new ArgumentException($"unknown batch norm \"{BatchNorm}\" (known: {string.Join(", ", LowPrecision.LowPrecisionTraining.BatchNormKinds)})");
    }

    /// <summary>A language model's options (--arch lstm|gru): the ranges above that apply to it, and its own.</summary>
    private void ValidateSequence()
    {
        string? problem = Ranges.Epochs.Problem(Epochs) ?? Ranges.SequenceBits.Problem(WeightBits) ?? Ranges.SequenceBits.Problem(ActBits)
            ?? Ranges.Batch.Problem(Batch) ?? Ranges.Lr.Problem(Lr) ?? Ranges.LrEnd.Problem(LrEnd) ?? Ranges.Minutes.Problem(Minutes)
            ?? Ranges.Hidden.Problem(Hidden) ?? Ranges.Embed.Problem(Embed) ?? Ranges.Layers.Problem(Layers) ?? Ranges.Bptt.Problem(Bptt)
            ?? Ranges.GateBits.Problem(GateBits) ?? Ranges.CellBits.Problem(CellBits) ?? Ranges.Clip.Problem(Clip) ?? Ranges.Dropout.Problem(Dropout);
        if (problem is not null) throw new ArgumentException(problem);
        if ((WeightBits == 32) != (ActBits == 32))
            throw new ArgumentException("the float baseline takes --weight-bits 32 and --act-bits 32 together");
        Registry.Get(Registry.Optimizers, Optimizer, "optimizer");
        if (!Optimizer.Equals("adam", StringComparison.OrdinalIgnoreCase)) throw new ArgumentException("language models train with --optimizer adam");
        if (!Backend.Equals("cpu", StringComparison.OrdinalIgnoreCase)) throw new ArgumentException("language models train on the CPU backend only (--backend cpu)");
    }

    /// <summary>
    /// The learning rate of epoch <paramref name="epoch"/> (0-based): lr · (lrEnd / lr)^(epoch / (S − 1)), S the
    /// schedule's epochs (<see cref="ScheduleEpochs"/>, else <see cref="Epochs"/>).
    /// </summary>
    public float LearningRate(int epoch)
    {
        int span = ScheduleEpochs > 0 ? ScheduleEpochs : Epochs;
        return span <= 1 ? Lr : (float)(Lr * Math.Pow((double)LrEnd / Lr, (double)epoch / (span - 1)));
    }
}
