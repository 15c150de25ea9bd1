namespace Qnn.Trainer.Training;

/// <summary>Everything a training run is made from; a checkpoint stores it and a resume must match it.</summary>
public sealed record TrainOptions
{
    public string Dataset { get; init; } = "mnist";
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

    /// <summary>The learning rate of epoch <paramref name="epoch"/> (0-based): lr · (lrEnd / lr)^(epoch / (epochs − 1)).</summary>
    public float LearningRate(int epoch) =>
        Epochs <= 1 ? Lr : (float)(Lr * Math.Pow((double)LrEnd / Lr, (double)epoch / (Epochs - 1)));
}
