using System.Buffers.Binary;
using System.IO.Hashing;
using Qnn.Datasets;
using Qnn.TestSupport;
using Qnn.Trainer.Layers;
using Qnn.Trainer.Training;

namespace Qnn.Trainer.Tests;

/// <summary>
/// Training cannot lose work or continue from damaged state: a checkpoint whose checksum fails (or that has none) is
/// refused naming the file; a NaN stops the run in one line naming the epoch and batch, and the last checkpoint is
/// the last good one; every numeric option has a range checked before any work; a --width that would not fit in
/// memory is refused before anything is allocated.
/// </summary>
public sealed class ReliabilityTests : TempFolderTest
{
    private static TrainOptions Small => new()
    {
        Arch = "mlp-micro", Width = 16, Epochs = 3, Batch = 50, TrainLimit = 300, Validation = 100, Shift = 0, Seed = 3,
    };

    private static Training.TrainingLoop Trainer(TrainOptions o, string? checkpoint) => new(o, TestData.Mnist.Train) { CheckpointPath = checkpoint };

    [Fact]
    public void A_checkpoint_with_flipped_bytes_is_refused_naming_the_file()
    {
        string path = Temp.File("run.ckpt");
        using (var t = Trainer(Small with { Epochs = 1 }, path)) t.Run();
        byte[] good = File.ReadAllBytes(path);
        byte[] bad = (byte[])good.Clone();
        for (int i = 0; i < 4; i++) bad[bad.Length / 2 + 17 * i] ^= 0x5A;     // in the tensors, past the header
        File.WriteAllBytes(path, bad);

        using var resumed = Trainer(Small with { Epochs = 1 }, path);
        var e = Assert.Throws<InvalidDataException>(() => resumed.Run(resume: true));
        Assert.Equal($"{path}: checksum mismatch, the checkpoint is damaged; delete it to train from the start", e.Message);
        Assert.Throws<InvalidDataException>(() => Checkpoint.ReadHeader(path));

        File.WriteAllBytes(path, good[..^3]);
        Assert.Contains("checksum mismatch", Assert.Throws<InvalidDataException>(() => Checkpoint.ReadHeader(path)).Message);
        File.WriteAllBytes(path, good);
        Assert.Equal(1, Checkpoint.ReadHeader(path).Epoch);
    }

    [Fact]
    public void A_checkpoint_of_the_layout_without_a_checksum_is_refused()
    {
        string path = Temp.File("old.ckpt");
        File.WriteAllBytes(path, [.. "QNNCKPT1"u8, 5, 0, 0, 0, .. "{}{}{"u8]);
        var e = Assert.Throws<InvalidDataException>(() => Checkpoint.ReadHeader(path));
        Assert.StartsWith($"{path}: a checkpoint of an older qnn, without a checksum", e.Message);
    }

    [Fact]
    public void Without_a_validation_split_the_checkpoint_keeps_the_NaN_validation_figures_and_resumes()
    {
        string path = Temp.File("noval.ckpt");
        using (var t = Trainer(Small with { Epochs = 1, Validation = 0 }, path))
        {
            var outcome = t.Run();
            Assert.True(double.IsNaN(outcome.History[0].ValAccuracy));
        }
        var header = Checkpoint.ReadHeader(path);
        Assert.Equal(1, header.Epoch);
        Assert.True(double.IsNaN(header.History[0].ValLoss));
        using var resumed = Trainer(Small with { Epochs = 1, Validation = 0 }, path);
        Assert.Single(resumed.Run(resume: true).History);
    }

    /// <summary>Writes NaN into one parameter after batch <paramref name="batch"/> (1-based) of epoch <paramref name="epoch"/> (0-based).</summary>
    private sealed class Poison(Training.TrainingLoop t, int epoch, int batch, Func<Parameter, bool> which, float value = float.NaN, bool last = true)
        : IProgress<TrainProgress>
    {
        public void Report(TrainProgress p)
        {
            if (p.Epoch != epoch || p.Batch != batch) return;
            var target = (last ? t.Network.Parameters.Last(which) : t.Network.Parameters.First(which)).Value;
            var nan = new float[target.Length];
            Array.Fill(nan, value);
            t.Network.Backend.Upload(nan, target);
        }
    }

    [Fact]
    public void A_NaN_loss_stops_training_naming_epoch_and_batch_and_keeps_the_last_good_checkpoint()
    {
        string path = Temp.File("nan.ckpt");
        using var t = Trainer(Small, path);
        // The last batch norm's shift: every score, hence the loss of the next batch, is NaN.
        var e = Assert.Throws<NonFiniteTrainingException>(() => t.Run(new Poison(t, epoch: 1, batch: 2, p => p.Name == "bn.beta")));
        Assert.StartsWith("epoch 2/3, batch 3/6: the training loss of sample ", e.Message);
        Assert.Contains(" is NaN", e.Message);
        Assert.EndsWith($"training stopped; {path} keeps the last good state", e.Message);
        Assert.Single(e.Message.Split('\n'));
        var header = Checkpoint.ReadHeader(path);
        Assert.Equal((1, 0), (header.Epoch, header.Batch));
        Assert.Single(header.History);
    }

    [Fact]
    public void NaN_parameters_that_no_loss_shows_yet_are_found_before_the_epochs_checkpoint()
    {
        string path = Temp.File("nanw.ckpt");
        using var t = Trainer(Small, path);
        // A latent weight after the epoch's last batch: no loss is computed from it before the checkpoint.
        var e = Assert.Throws<NonFiniteTrainingException>(() => t.Run(new Poison(t, epoch: 1, batch: 6, p => p.Name == "dense.w")));
        Assert.StartsWith("epoch 2/3, batch 6/6: parameter dense.w holds NaN after this epoch's updates", e.Message);
        Assert.Equal(1, Checkpoint.ReadHeader(path).Epoch);

        // Without a checkpoint so far, the message says that nothing was saved.
        string fresh = Temp.File("fresh.ckpt");
        using var first = Trainer(Small, fresh);
        var e0 = Assert.Throws<NonFiniteTrainingException>(() => first.Run(new Poison(first, epoch: 0, batch: 1, p => p.Name == "bn.beta")));
        Assert.EndsWith($"nothing was saved to {fresh}", e0.Message);
        Assert.False(File.Exists(fresh));
    }

    [Fact]
    public void A_NaN_gradient_stops_training_at_its_batch_before_the_update()
    {
        string path = Temp.File("nang.ckpt");
        using var t = Trainer(Small, path);
        // An infinite scale in the first batch norm: its outputs are still signs (the loss stays finite), but the
        // backward through it is not.
        var e = Assert.Throws<NonFiniteTrainingException>(() => t.Run(new Poison(t, epoch: 1, batch: 2, p => p.Name == "bn.gamma", float.PositiveInfinity, last: false)));
        Assert.StartsWith("epoch 2/3, batch 3/6: the gradient of ", e.Message);
        Assert.Equal(1, Checkpoint.ReadHeader(path).Epoch);
    }

    [Fact]
    public void Finding_a_non_finite_value_agrees_with_a_scalar_scan()
    {
        var values = new float[1003];
        Assert.Equal(-1, Training.TrainingLoop.FirstNonFinite(values));
        foreach (int at in new[] { 0, 7, 8, 500, 1002 })
            foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
            {
                var copy = (float[])values.Clone();
                copy[at] = bad;
                if (at > 0) copy[at - 1] = float.MaxValue;
                Assert.Equal(at, Training.TrainingLoop.FirstNonFinite(copy));
            }
        Assert.Equal(-1, Training.TrainingLoop.FirstNonFinite([float.MaxValue, -float.MaxValue, -0f, float.Epsilon]));
    }

    public static TheoryData<Func<TrainOptions, TrainOptions>, string> OutOfRange => new()
    {
        { o => o with { Epochs = 0 }, "--epochs must be 1 to 10000 (not 0)" },
        { o => o with { Width = -1 }, "--width must be 1 to 65536, or 0 for the architecture's default (not -1)" },
        { o => o with { Width = 100_000 }, "--width must be 1 to 65536" },
        { o => o with { Batch = 0 }, "--batch must be 1 to 4096 (not 0)" },
        { o => o with { Lr = -1 }, "--lr must be a finite number in (0, 1] (not -1)" },
        { o => o with { Lr = 0 }, "--lr must be a finite number in (0, 1] (not 0)" },
        { o => o with { Lr = float.NaN }, "--lr must be a finite number in (0, 1] (not NaN)" },
        { o => o with { Lr = float.PositiveInfinity }, "--lr must be a finite number in (0, 1] (not Infinity)" },
        { o => o with { Lr = 1e30f }, "--lr must be a finite number in (0, 1]" },
        { o => o with { LrEnd = 2 }, "--lr-end must be a finite number in (0, 1] (not 2)" },
        { o => o with { InputDropout = -0.5f }, "--dropout-in must be a finite number in [0, 1), or -1 for the architecture's default (not -0.5)" },
        { o => o with { HiddenDropout = 1 }, "--dropout-hidden must be a finite number in [0, 1)" },
        { o => o with { TrainLimit = -1 }, "--train-limit must be 1 or more, or 0 for all (not -1)" },
        { o => o with { Validation = -1 }, "--validation must be 0 or more (not -1)" },
        { o => o with { Shift = -1 }, "--shift must be 0 to 64 (not -1)" },
        { o => o with { WeightBits = 5 }, "--weight-bits must be 1 to 4 (not 5)" },
        { o => o with { ActBits = 0 }, "--act-bits must be 1 to 4 (not 0)" },
        { o => o with { GradBits = 20 }, "--grad-bits must be 2 to 16, or 32 for float gradients (not 20)" },
        { o => o with { GradBits = 6, GradScale = "row" }, "--grad-scale: unknown scale \"row\" (known: tensor, sample)" },
        { o => o with { GradBits = 6, GradLayers = "middle" }, "--grad-layers: unknown choice \"middle\" (known: all, hidden)" },
        { o => o with { GradScale = "sample" }, "--grad-scale and --grad-layers apply to quantized gradients" },
        { o => o with { Optimizer = "sgd9" }, "unknown optimizer \"sgd9\"" },
        { o => o with { BatchNorm = "fancy" }, "unknown batch norm \"fancy\"" },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void Every_numeric_option_out_of_its_range_is_one_line_naming_it(Func<TrainOptions, TrainOptions> change, string message)
    {
        var o = change(Small);
        Assert.StartsWith(message, Assert.Throws<ArgumentException>(o.Validate).Message);
        // The trainer refuses the same options (library callers skip the CLI) before it allocates anything.
        Assert.StartsWith(message, Assert.Throws<ArgumentException>(() => new Training.TrainingLoop(o, TinySet(10, 28))).Message);
        Small.Validate();
    }

    /// <summary>A data set of <paramref name="count"/> blank size×size images: enough for the checks, nothing to train.</summary>
    private static Dataset TinySet(int count, int size) => new()
    {
        Name = "tiny", Height = size, Width = size, Channels = 1, Pixels = new byte[count * size * size],
        Labels = Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray(), ClassCount = 10,
    };

    [Theory]
    [InlineData("mlp", 60_000)]
    [InlineData("mlp", 45_000)]
    [InlineData("conv", 4_000)]
    [InlineData("mlp", 8_192)]      // fits in memory, but its checkpoint would be over 2 GB
    public void A_width_too_large_for_memory_is_refused_with_the_estimate_before_allocating(string arch, int width)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ArgumentException>(() => new Training.TrainingLoop(Small with { Arch = arch, Width = width }, TinySet(1000, 28)));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 10 << 20, "allocated before refusing");
        Assert.StartsWith($"--width {width}: the {arch} needs about ", e.Message);
        Assert.Contains(" GB to train with --batch 50", e.Message);
        Assert.EndsWith("use a smaller --width", e.Message);
    }

    [Fact]
    public void The_memory_estimate_grows_with_the_square_of_the_width_and_fits_the_defaults()
    {
        var shape = new Shape(28, 28, 1);
        long Bytes(string arch, int width) =>
            MemoryEstimate.Of(Architectures.Build(arch, new ArchOptions(Width: width), shape, 10, out _), shape, 100).Bytes;
        // The paper's MLP: 784·4096 + 2·4096² + 4096·10 weights, 9 floats each, and the batch's buffers.
        long weights = 784L * 4096 + 2L * 4096 * 4096 + 4096L * 10;
        Assert.InRange(Bytes("mlp", 4096), 36 * weights, 36 * weights + (100 << 20));
        Assert.InRange((double)Bytes("mlp", 8192) / Bytes("mlp", 4096), 3.5, 4.0);
        Assert.True(Bytes("mlp", 1024) < MemoryEstimate.Budget && Bytes("conv", 32) < MemoryEstimate.Budget);
    }

    [Fact]
    public void Validation_that_leaves_less_than_a_batch_says_how_many_samples_remain()
    {
        var e = Assert.Throws<ArgumentException>(() => new Training.TrainingLoop(Small with { Validation = 1000, TrainLimit = 0 }, TinySet(1000, 28)));
        Assert.Equal("--validation 1000 leaves 0 of the 1000 training samples, fewer than one batch of 50 (--batch); use --validation 950 or less", e.Message);
        var limit = Assert.Throws<ArgumentException>(() => new Training.TrainingLoop(Small with { Validation = 100, TrainLimit = 20 }, TinySet(1000, 28)));
        Assert.Equal("--train-limit 20 leaves 20 training samples, fewer than one batch of 50 (--batch)", limit.Message);
    }

    [Fact]
    public void The_checkpoint_trailer_is_the_xxhash64_of_everything_before_it()
    {
        string path = Temp.File("t.ckpt");
        using (var t = Trainer(Small with { Epochs = 1 }, path)) t.Run();
        byte[] b = File.ReadAllBytes(path);
        Assert.Equal("QNNCKPT2"u8.ToArray(), b[..8]);
        Assert.Equal(XxHash64.HashToUInt64(b.AsSpan(0, b.Length - 8)), BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(b.Length - 8)));
    }
}
