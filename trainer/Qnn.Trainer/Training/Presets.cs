using System.Globalization;

namespace Qnn.Trainer.Training;

/// <summary>A named recipe of the papers: every hyper-parameter of one published run.</summary>
/// <param name="Options">The options; Dataset, Seed, Backend and TrainLimit are the caller's.</param>
/// <param name="Source">Where the settings come from, and what differs here.</param>
public sealed record Preset(string Name, string Description, TrainOptions Options, string Source)
{
    /// <summary>The settings in one line, for `qnn train --help` and the model's metadata.</summary>
    public string Settings => Describe(Options);

    public static string Describe(TrainOptions o) => string.Create(CultureInfo.InvariantCulture,
        $"arch={o.Arch} width={o.Width} w{o.WeightBits}a{o.ActBits} act_quant={o.ActQuant} batch={o.Batch} epochs={o.Epochs} " +
        $"lr={o.Lr}..{o.LrEnd} over {(o.ScheduleEpochs > 0 ? o.ScheduleEpochs : o.Epochs)} epochs loss={o.Loss} optimizer={o.Optimizer} " +
        $"bn={o.BatchNorm} grad_bits={o.GradBits} dropout={o.InputDropout}/{o.HiddenDropout} shift={o.Shift} validation={o.Validation} (best-validation model)");
}

/// <summary>
/// `qnn train --preset`: the paper's MNIST runs (Hubara et al. 2016, BNN section 2 and the QNN paper's Table 1).
/// A preset sets every hyper-parameter; `--epochs` and `--minutes` stop the run early and change nothing else (the
/// learning rate of each epoch stays the paper's, see <see cref="TrainOptions.ScheduleEpochs"/>).
/// </summary>
public static class Presets
{
    public static readonly Dictionary<string, Preset> All = new(StringComparer.OrdinalIgnoreCase)
    {
        ["paper-mnist"] = new("paper-mnist", "the Theano run: 3x4096 binary MLP, Adam, exact batch norm, dropout 0.2/0.5, 1000 epochs",
            new TrainOptions
            {
                Arch = "mlp", Width = 4096, WeightBits = 1, ActBits = 1, ActQuant = "odd", InputDropout = 0.2f, HiddenDropout = 0.5f,
                Epochs = 1000, ScheduleEpochs = 1000, Batch = 100, Lr = 0.003f, LrEnd = 3e-7f, Loss = "squared_hinge", Optimizer = "adam",
                GradBits = 32, BatchNorm = "exact", Shift = 0, Validation = 10_000, Preset = "paper-mnist",
            },
            "BinaryNet's Theano mnist.py: 3 hidden layers of 4096 units, batch 100, deterministic binarization, squared hinge loss, " +
            "Adam with the Glorot learning-rate scale, LR 0.003 decayed exponentially to 3e-7 over 1000 epochs, dropout 0.2 on the " +
            "input and 0.5 after every hidden layer, 50,000 training and 10,000 validation images, no augmentation, the test error " +
            "of the best validation epoch. Differs: batch norm momentum 0.1 and epsilon 1e-4 as the paper's (alpha = .1, epsilon = 1e-4); " +
            "the head is the export's shared-scale batch norm (format/SPEC.md 1.7); the first layer sees the 8-bit pixels 2p - 255."),
        ["paper-mnist-torch"] = new("paper-mnist-torch", "the Torch7 run: 3x2048 binary MLP, shift-based batch norm and AdaMax, 1000 epochs",
            new TrainOptions
            {
                Arch = "mlp", Width = 2048, WeightBits = 1, ActBits = 1, ActQuant = "odd", InputDropout = 0f, HiddenDropout = 0f,
                Epochs = 1000, ScheduleEpochs = 1000, Batch = 100, Lr = 1f / 1024, LrEnd = 1f / (1 << 20), Loss = "squared_hinge",
                Optimizer = "adamax-shift", GradBits = 32, BatchNorm = "shift", Shift = 0, Validation = 10_000, Preset = "paper-mnist-torch",
            },
            "BNN paper, Torch7 MNIST: 3 hidden layers of 2048 units, no dropout, shift-based batch norm (Algorithm 3) and shift-based " +
            "AdaMax (Algorithm 4) with alpha = 2^-10, 1 - beta1 = 2^-3, 1 - beta2 = 2^-10, batch 100, 10,000 validation images, " +
            "squared hinge loss. The learning-rate decay is not stated in the paper: here 2^-10 to 2^-20 over the 1000 epochs, each " +
            "step rounded to a power of two (AP2) by AdaMax-shift, so it decays by shifts."),
    };

    public static Preset Get(string name) => Registry.Get(All, name, "preset");

    /// <summary>The preset's options with the caller's data set, seed, backend, sample limit and budgets.</summary>
    public static TrainOptions Apply(string name, TrainOptions caller, int? epochs, double minutes) => Get(name).Options with
    {
        Dataset = caller.Dataset, Seed = caller.Seed, Backend = caller.Backend, TrainLimit = caller.TrainLimit,
        Epochs = epochs ?? Get(name).Options.Epochs, Minutes = minutes,
    };
}
