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
    /// <summary>-1: the architecture's default.</summary>
    public float InputDropout { get; init; } = -1f;
    public float HiddenDropout { get; init; } = -1f;
    public int Epochs { get; init; } = 40;
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
    /// <summary>"exact" or "shift" (the BNN paper's shift-based batch norm); see LowPrecision.ShiftBatchNorm.</summary>
    public string BatchNorm { get; init; } = "exact";
    /// <summary>Data augmentation: training images moved by up to this many pixels (see ShiftAugmentation); 0 = none.</summary>
    public int Shift { get; init; } = 1;
    /// <summary>Samples taken from the end of the training set for validation.</summary>
    public int Validation { get; init; } = 5000;
    /// <summary>Use at most this many training samples (0 = all); for quick runs and tests.</summary>
    public int TrainLimit { get; init; }

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
    }

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> with one line naming the first option out of its range (or an unknown
    /// name of an architecture, loss, optimizer, batch norm or backend); cheap, so callers run it before loading data.
    /// </summary>
    public void Validate()
    {
        string? problem = Ranges.Epochs.Problem(Epochs) ?? Ranges.Width.Problem(Width) ?? Ranges.WeightBits.Problem(WeightBits)
            ?? Ranges.ActBits.Problem(ActBits) ?? Ranges.Batch.Problem(Batch) ?? Ranges.Lr.Problem(Lr) ?? Ranges.LrEnd.Problem(LrEnd)
            ?? Ranges.InputDropout.Problem(InputDropout) ?? Ranges.HiddenDropout.Problem(HiddenDropout) ?? Ranges.Shift.Problem(Shift)
            ?? Ranges.Validation.Problem(Validation) ?? Ranges.TrainLimit.Problem(TrainLimit) ?? Ranges.GradBits.Problem(GradBits);
        if (problem is not null) throw new ArgumentException(problem);
        Architectures.Get(Arch);
        Registry.Get(Registry.Losses, Loss, "loss");
        Registry.Get(Registry.Optimizers, Optimizer, "optimizer");
        Registry.Get(Registry.Backends, Backend, "backend");
        if (!LowPrecision.LowPrecisionTraining.BatchNormKinds.Contains(BatchNorm, StringComparer.OrdinalIgnoreCase))
            throw new ArgumentException($"unknown batch norm \"{BatchNorm}\" (known: {string.Join(", ", LowPrecision.LowPrecisionTraining.BatchNormKinds)})");
    }

    /// <summary>The learning rate of epoch <paramref name="epoch"/> (0-based): lr · (lrEnd / lr)^(epoch / (epochs − 1)).</summary>
    public float LearningRate(int epoch) =>
        Epochs <= 1 ? Lr : (float)(Lr * Math.Pow((double)LrEnd / Lr, (double)epoch / (Epochs - 1)));
}
