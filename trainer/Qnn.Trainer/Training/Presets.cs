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
        $"arch={o.Arch} width={o.Width} w{o.WeightBits}a{o.ActBits} act_quant={o.ActQuant} weight_quant={o.WeightQuant} batch={o.Batch} epochs={o.Epochs} " +
        $"lr={o.Lr}..{o.LrEnd} over {(o.ScheduleEpochs > 0 ? o.ScheduleEpochs : o.Epochs)} epochs loss={o.Loss} optimizer={o.Optimizer} " +
        $"bn={o.BatchNorm} grad_bits={o.GradBits} dropout={o.InputDropout}/{o.HiddenDropout} shift={o.Shift} validation={o.Validation} (best-validation model)");
}

/// <summary>
/// `qnn train --preset`: the paper's runs (Hubara et al. 2016, BNN section 2 and the QNN paper's Table 1): MNIST
/// (Theano and Torch7), and the CIFAR-10 and SVHN ConvNets.
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
        ["paper-cifar10"] = new("paper-cifar10", "the Theano CIFAR-10 run: (2x128C3)-MP2-(2x256C3)-MP2-(2x512C3)-MP2-(2x1024FC)-10, batch 50, 500 epochs",
            new TrainOptions
            {
                Arch = "paper-cifar10", Width = 128, WeightBits = 1, ActBits = 1, ActQuant = "odd", InputDropout = 0f, HiddenDropout = 0f,
                Epochs = 500, ScheduleEpochs = 500, Batch = 50, Lr = 0.001f, LrEnd = 3e-7f, Loss = "squared_hinge", Optimizer = "adam",
                GradBits = 32, BatchNorm = "exact", Shift = 0, Validation = 5_000, Preset = "paper-cifar10",
            },
            "BinaryNet's Theano cifar10.py: the BNN paper's ConvNet with batch norm after every layer (after the pool where there is one), " +
            "deterministic binarization, batch 50, squared hinge loss, Adam with the Glorot learning-rate scale, LR 0.001 decayed " +
            "exponentially to 3e-7 over 500 epochs, no dropout, 45,000 training and 5,000 validation images, the test error of the best " +
            "validation epoch. Differs: no ZCA whitening or global contrast normalization (the first layer sees the 8-bit pixels 2p - 255)."),
        ["paper-svhn"] = new("paper-svhn", "the Theano SVHN run: paper-cifar10 with half the conv units, batch 50, 200 epochs",
            new TrainOptions
            {
                Arch = "paper-svhn", Width = 64, WeightBits = 1, ActBits = 1, ActQuant = "odd", InputDropout = 0f, HiddenDropout = 0f,
                Epochs = 200, ScheduleEpochs = 200, Batch = 50, Lr = 0.001f, LrEnd = 3e-6f, Loss = "squared_hinge", Optimizer = "adam",
                GradBits = 32, BatchNorm = "exact", Shift = 0, Validation = 6_000, Preset = "paper-svhn",
            },
            "BinaryNet's Theano svhn.py: the CIFAR-10 ConvNet with half the conv units, batch 50, squared hinge loss, Adam, LR 0.001 " +
            "decayed exponentially to 3e-6 over 200 epochs, no dropout, the best-validation model. Differs: the paper trains on train and " +
            "extra and holds out 6,000 images of them (400 per class of train, 200 per class of extra); here the 6,000 are the end of the " +
            "training set given to --dataset, and extra_32x32.mat is not read; no contrast normalization. The 200 epochs and the LR " +
            "end are as recalled from that script, not re-checked against its source here."),
    };

    public static Preset Get(string name) => Registry.Get(All, name, "preset");

    /// <summary>The preset's options with the caller's data set, seed, backend, sample limit and budgets.</summary>
    public static TrainOptions Apply(string name, TrainOptions caller, int? epochs, double minutes) => Get(name).Options with
    {
        Dataset = caller.Dataset, ImageSize = caller.ImageSize, Channels = caller.Channels, Seed = caller.Seed, Backend = caller.Backend,
        TrainLimit = caller.TrainLimit,
        Epochs = epochs ?? Get(name).Options.Epochs, Minutes = minutes,
    };
}
