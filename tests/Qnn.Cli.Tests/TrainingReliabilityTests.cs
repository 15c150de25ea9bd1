using System.Buffers.Binary;
using System.IO.Hashing;
using Qnn.Datasets;
using Qnn.Trainer.Training;

namespace Qnn.Cli.Tests;

/// <summary>
/// Issue 12 from the command line: options are checked before the data is read, a damaged MNIST cache or checkpoint
/// is refused in one line naming the file, --validation 0 trains and checkpoints, and a NaN stops `qnn train` with
/// exit code 1 and one line while the last checkpoint stays as it was and no model is written.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class TrainingReliabilityTests : TempFolderTest
{
    private static void EnsureMnist()
    {
        if (DatasetLoader.MnistCacheProblem(DataCache.MnistDirectory) is not null)
            new MnistFetcher(new FetchOptions(DataCache.MnistDirectory)).Fetch();
    }

    /// <summary>Runs <paramref name="body"/> with the data cache at <paramref name="root"/> ($QNN_DATA), then puts it back.</summary>
    private static T WithCache<T>(string root, Func<T> body)
    {
        string? saved = Environment.GetEnvironmentVariable("QNN_DATA");
        Environment.SetEnvironmentVariable("QNN_DATA", root);
        try { return body(); }
        finally { Environment.SetEnvironmentVariable("QNN_DATA", saved); }
    }

    private static string LastLine(string text) => text.TrimEnd().Split('\n')[^1];

    [Fact]
    public void Option_ranges_are_checked_before_the_data_is_read()
    {
        string empty = Temp.File("empty-cache");
        Directory.CreateDirectory(empty);
        var bad = WithCache(empty, () => QnnCommand.Run("train", "--lr", "NaN", "--out", Temp.File("m.qnn")));
        Assert.Equal((1, "qnn train: --lr must be a finite number in (0, 1] (not NaN)"), (bad.ExitCode, bad.Error.TrimEnd()));
        var good = WithCache(empty, () => QnnCommand.Run("train", "--out", Temp.File("m.qnn")));
        Assert.Contains("MNIST is not in the cache", good.Error);
    }

    [Fact]
    public void Limits_of_eval_and_verify_are_checked_before_the_model_is_read()
    {
        foreach (string verb in new[] { "eval", "verify" })
        {
            var r = QnnCommand.Run(verb, Temp.File("none.qnn"), "--limit", "-1");
            Assert.Equal((1, $"qnn {verb}: --limit must be 1 or more, or 0 for all (not -1)"), (r.ExitCode, r.Error.TrimEnd()));
        }
    }

    [Theory]
    [InlineData("qnn bench gpu: --batch must be 1 to 65536, or 0 for 256, or 32 on the CPU accelerator (not -5)", "bench", "gpu", "none.qnn", "--batch", "-5")]
    [InlineData("qnn bench gpu: --validate must be 1 to 100000 (not 0)", "bench", "gpu", "none.qnn", "--validate", "0")]
    [InlineData("qnn bench gpu: --min-seconds must be a finite number in [0, 600] (not NaN)", "bench", "gpu", "none.qnn", "--min-seconds", "NaN")]
    [InlineData("qnn bench train: --width must be 1 to 16384 (not 100000)", "bench", "train", "--width", "100000")]
    [InlineData("qnn bench train: --steps must be 1 to 1000 (not 0)", "bench", "train", "--steps", "0")]
    [InlineData("qnn bench train accuracy: --train-limit must be 1 or more, or 0 for all (not -1)", "bench", "train", "accuracy", "--train-limit", "-1")]
    public void Bench_options_out_of_range_are_one_line_before_any_work(string expected, params string[] args)
    {
        var r = QnnCommand.Run(args);
        Assert.Equal((1, expected), (r.ExitCode, r.Error.TrimEnd()));
    }

    [Fact]
    public void A_damaged_cache_file_is_refused_by_every_loader_and_data_list_says_not_ready()
    {
        EnsureMnist();
        string model = Temp.File("m.qnn");
        string[] train = ["train", "--arch", "mlp-micro", "--width", "16", "--epochs", "1", "--train-limit", "500", "--validation", "0", "--out", model];
        // --validation 0 used to crash on the NaN validation figures when writing the checkpoint.
        var trained = QnnCommand.Run(train);
        Assert.True(trained.ExitCode == 0, trained.Error);
        Assert.True(File.Exists(model) && File.Exists(model + ".ckpt"));

        string root = Temp.File("cache");
        string copy = Path.Combine(root, "mnist");
        Directory.CreateDirectory(copy);
        foreach (string f in DatasetLoader.FileNames.Append(CacheManifest.FileName))
            File.Copy(Path.Combine(DataCache.MnistDirectory, f), Path.Combine(copy, f));
        string damaged = Path.Combine(copy, "t10k-labels-idx1-ubyte");
        byte[] labels = File.ReadAllBytes(damaged);
        labels[5000] = (byte)((labels[5000] + 1) % 10);     // a label still in range: only the hash can tell
        File.WriteAllBytes(damaged, labels);

        string expected = $"{damaged}: its XxHash3 differs from the one recorded at fetch time (the file is damaged); run `qnn data fetch mnist` again";
        foreach (string[] args in new[] { ["eval", model, "--limit", "100"], train, new[] { "data", "info", "mnist" } })
        {
            var r = WithCache(root, () => QnnCommand.Run(args));
            Assert.Equal(1, r.ExitCode);
            Assert.Equal($"qnn {(args[0] == "data" ? "data info" : args[0])}: {expected}", r.Error.TrimEnd());
        }
        var list = WithCache(root, () => QnnCommand.Run("data", "list"));
        Assert.Contains("no: damaged", list.Out);
    }

    /// <summary>The options the CLI builds from the command line below.</summary>
    private static readonly TrainOptions CliOptions = new() { Arch = "mlp-micro", Width = 16, Epochs = 2, TrainLimit = 400, Validation = 100 };

    private string[] TrainArgs(string model) =>
        ["train", "--arch", "mlp-micro", "--width", "16", "--epochs", "2", "--train-limit", "400", "--validation", "100", "--out", model, "--resume"];

    /// <summary>A checkpoint after epoch 1 of 2, made by the trainer with the options the CLI will build.</summary>
    private static void CheckpointAfterFirstEpoch(string path)
    {
        EnsureMnist();
        using var cts = new CancellationTokenSource();
        using var t = new Qnn.Trainer.Training.TrainingLoop(CliOptions, DatasetLoader.Load("mnist").Train) { CheckpointPath = path, EpochDone = _ => cts.Cancel() };
        Assert.Throws<OperationCanceledException>(() => t.Run(null, cts.Token));
        Assert.Equal((1, 0), (Checkpoint.ReadHeader(path).Epoch, Checkpoint.ReadHeader(path).Batch));
    }

    [Fact]
    public void A_checkpoint_with_four_flipped_bytes_is_refused_by_resume()
    {
        string model = Temp.File("m.qnn"), ckpt = model + ".ckpt";
        CheckpointAfterFirstEpoch(ckpt);
        byte[] b = File.ReadAllBytes(ckpt);
        for (int i = 0; i < 4; i++) b[b.Length - 4000 + 333 * i] ^= 0x01;
        File.WriteAllBytes(ckpt, b);
        var r = QnnCommand.Run(TrainArgs(model));
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"qnn train: {ckpt}: checksum mismatch, the checkpoint is damaged; delete it to train from the start", LastLine(r.Error));
        Assert.DoesNotContain("   at ", r.Error);
        Assert.False(File.Exists(model));
        Assert.Equal(b, File.ReadAllBytes(ckpt));
    }

    [Fact]
    public void A_NaN_stops_train_with_exit_1_and_one_line_and_the_checkpoint_survives()
    {
        string model = Temp.File("m.qnn"), ckpt = model + ".ckpt";
        CheckpointAfterFirstEpoch(ckpt);
        // NaN as the first value of every tensor, with a valid checksum: the state a NaN gradient leaves behind.
        byte[] b = File.ReadAllBytes(ckpt);
        int at = 8;
        at += 4 + BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(at));
        int count = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(at));
        at += 4;
        for (int i = 0; i < count; i++)
        {
            int n = BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(at));
            if (n > 0) BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(at + 4), float.NaN);
            at += 4 + 4 * n;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(b.Length - 8), XxHash64.HashToUInt64(b.AsSpan(0, b.Length - 8)));
        File.WriteAllBytes(ckpt, b);

        var r = QnnCommand.Run(TrainArgs(model));
        Assert.Equal(1, r.ExitCode);
        string line = LastLine(r.Error);
        Assert.StartsWith("qnn train: epoch 2/2, batch 1/4: the training loss of sample ", line);
        Assert.EndsWith($"training stopped; {ckpt} keeps the last good state", line);
        Assert.DoesNotContain("   at ", r.Error);
        Assert.False(File.Exists(model));
        Assert.Equal(b, File.ReadAllBytes(ckpt));
    }
}
