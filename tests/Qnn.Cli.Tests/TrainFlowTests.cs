using System.Text.Json;
using Qnn.Datasets;

namespace Qnn.Cli.Tests;

/// <summary>
/// What a user does after `qnn train`: the files it leaves, `qnn eval` reporting the accuracy that train reported,
/// `qnn run` giving one class from both runtimes, `qnn export --onnx`, `--resume`; and every bad option as one line
/// on stderr with exit code 1, no stack trace and no file written.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class TrainFlowTests : TempFolderTest
{
    private static DatasetSplit Mnist()
    {
        if (DatasetLoader.MnistCacheProblem(DataCache.MnistDirectory) is not null)
            new MnistFetcher(new FetchOptions(DataCache.MnistDirectory)).Fetch();
        return DatasetLoader.Load("mnist");
    }

    private static JsonElement Json(ConsoleCapture.Result r)
    {
        Assert.True(r.ExitCode == 0, r.Error);
        return JsonDocument.Parse(r.Out).RootElement;
    }

    [Fact]
    public void The_default_mlp_trains_its_own_epochs_and_an_explicit_epochs_wins()
    {
        // Issue 16's default recipe: 100 epochs for --arch mlp (the default), 40 for the others. One step of 8-unit
        // layers an epoch keeps the runs short; every epoch the summary names is run.
        Mnist();
        int Epochs(params string[] extra)
        {
            string[] args = ["train", "--width", "8", "--train-limit", "50", "--batch", "50", "--validation", "50",
                "--out", Temp.File($"e{extra.Length}.qnn"), "--json", .. extra];
            var summary = Json(QnnCommand.Run(args));
            int epochs = summary.GetProperty("epochs").GetInt32();
            Assert.Equal(epochs, summary.GetProperty("history").GetArrayLength());
            return epochs;
        }
        Assert.Equal(100, Epochs());
        Assert.Equal(40, Epochs("--arch", "mlp-micro"));
        Assert.Equal(7, Epochs("--arch", "mlp", "--epochs", "7", "--seed", "2"));
    }

    [Fact]
    public void A_short_run_leaves_model_checkpoint_log_and_plot_that_eval_run_export_and_resume_accept()
    {
        Mnist();
        string model = Temp.File("m.qnn");
        string[] train = ["train", "--arch", "mlp-micro", "--width", "32", "--epochs", "2", "--train-limit", "2000", "--validation", "500",
            "--out", model, "--json"];
        var summary = Json(QnnCommand.Run(train));
        double test = summary.GetProperty("testAccuracy").GetDouble();
        Assert.InRange(test, 0.5, 1.0);
        Assert.Equal(test, summary.GetProperty("floatAccuracy").GetDouble(), 3);
        Assert.Equal(2, summary.GetProperty("history").GetArrayLength());
        Assert.True(File.Exists(model + ".ckpt"));
        Assert.Equal(3, File.ReadAllLines(model + ".log.csv").Length);    // header and one line per epoch
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(model + ".png")[..4]);

        var eval = Json(QnnCommand.Run("eval", model, "--dataset", "mnist", "--json"));
        Assert.Equal(test, eval.GetProperty("accuracy").GetDouble());
        Assert.Equal(10_000, eval.GetProperty("confusion").EnumerateArray().SelectMany(r => r.EnumerateArray()).Sum(c => c.GetInt32()));

        // One test image as raw bytes: both runtimes give the same class and scores.
        var data = Mnist();
        string image = Temp.File("digit.raw");
        File.WriteAllBytes(image, data.Test.Pixels[..784]);
        var fast = Json(QnnCommand.Run("run", model, "--input", image, "--json"));
        var portable = Json(QnnCommand.Run("run", model, "--input", image, "--runtime", "portable", "--json"));
        Assert.InRange(fast.GetProperty("class").GetInt32(), 0, 9);
        Assert.Equal(fast.GetProperty("class").GetInt32(), portable.GetProperty("class").GetInt32());
        Assert.Equal(fast.GetProperty("scores").ToString(), portable.GetProperty("scores").ToString());

        var export = Json(QnnCommand.Run("export", model, "--onnx", Temp.File("m.onnx"), "--json"));
        Assert.Equal(new FileInfo(Temp.File("m.onnx")).Length, export.GetProperty("onnxBytes").GetInt64());

        // Resuming a finished run with the same options says so and exports the same model again (the same id and
        // accuracy; the metadata's training time may differ).
        var again = QnnCommand.Run([.. train, "--resume"]);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains($"resuming from {model}.ckpt: all 2 epochs are done", again.Error);
        var resumed = Json(again);
        Assert.Equal(summary.GetProperty("modelId").GetString(), resumed.GetProperty("modelId").GetString());
        Assert.Equal(test, resumed.GetProperty("testAccuracy").GetDouble());
        byte[] before = File.ReadAllBytes(model);

        // Resuming with other options names the checkpoint and changes nothing.
        var other = QnnCommand.Run([.. train.Select(a => a == "32" ? "48" : a), "--resume"]);
        Assert.Equal(1, other.ExitCode);
        Assert.Contains(model + ".ckpt", other.Error);
        Assert.Contains("other options", other.Error);
        Assert.Equal(before, File.ReadAllBytes(model));
    }

    public static TheoryData<string[], string> BadCommands => new()
    {
        { ["train", "--shift", "28", "--train-limit", "500", "--validation", "100"], "shift must be 0 to 27 pixels for 28x28 images" },
        { ["train", "--epochs", "0"], "--epochs must be 1 to 10000 (not 0)" },
        { ["train", "--act-bits", "5"], "--act-bits must be 1 to 4 (not 5)" },
        { ["train", "--width", "-1"], "--width must be 1 to 65536, or 0 for the architecture's default (not -1)" },
        { ["train", "--width", "100000"], "--width must be 1 to 65536" },
        { ["train", "--width", "60000", "--train-limit", "500", "--validation", "100"], "--width 60000: the mlp needs about " },
        { ["train", "--batch", "0"], "--batch must be 1 to 4096 (not 0)" },
        { ["train", "--lr", "-1"], "--lr must be a finite number in (0, 1] (not -1)" },
        { ["train", "--lr", "0"], "--lr must be a finite number in (0, 1] (not 0)" },
        { ["train", "--lr", "NaN"], "--lr must be a finite number in (0, 1] (not NaN)" },
        { ["train", "--lr", "Infinity"], "--lr must be a finite number in (0, 1] (not Infinity)" },
        { ["train", "--lr", "1e30"], "--lr must be a finite number in (0, 1] (not 1E+30)" },
        { ["train", "--dropout-in", "-0.5"], "--dropout-in must be a finite number in [0, 1), or -1 for the architecture's default (not -0.5)" },
        { ["train", "--train-limit", "-1"], "--train-limit must be 1 or more, or 0 for all (not -1)" },
        { ["train", "--validation", "60000"], "--validation 60000 leaves 0 of the 60000 training samples, fewer than one batch of 100 (--batch); use --validation 59900 or less" },
        { ["train", "--accelerator", "foo"], "--accelerator must be one of auto, cuda, opencl, cpu (not \"foo\")" },
        { ["train", "--accelerator", "cuda"], "--accelerator cuda needs --backend ilgpu" },
        { ["quickstart", "--limit", "-1"], "--limit must be 1 or more, or 0 for all (not -1)" },
        { ["quickstart", "--epochs", "0"], "--epochs must be 1 to 10000 (not 0)" },
        { ["train", "--arch", "resnet"], "resnet" },
        { ["train", "--dataset", "idx:/nonexistent/qnn-data"], "/nonexistent/qnn-data" },
        { ["train", "--resume"], "no checkpoint to resume from" },
        { ["train", "--act-quant", "log"], "--act-quant: unknown quantizer \"log\" (known: odd, sign, linear, stochastic)" },
        { ["train", "--act-quant", "stochastic", "--act-bits", "2"], "--act-quant stochastic binarizes: it needs --act-bits 1, not 2" },
        { ["train", "--weight-quant", "log", "--weight-bits", "1"], "--weight-quant log needs --weight-bits 2-4 (one sign bit and 1-3 exponent bits; at 1 bit a log weight is the sign: use --weight-quant sign), not 1" },
        { ["train", "--weight-quant", "linear", "--weight-bits", "2"], "--weight-quant linear: the paper's LinearQuant grid holds 0, and a .qnn weight cannot be 0" },
        { ["train", "--weight-quant", "stochastic", "--weight-bits", "2"], "--weight-quant stochastic binarizes: it needs --weight-bits 1, not 2" },
        { ["train", "--preset", "paper-mnist", "--weight-quant", "log"], "--weight-quant: --preset paper-mnist sets it (only --epochs and --minutes shorten a preset)" },
        { ["train", "--preset", "paper-cifar"], "--preset: unknown preset \"paper-cifar\" (known: paper-mnist, paper-mnist-torch, paper-cifar10, paper-svhn)" },
        { ["train", "--preset", "paper-mnist", "--width", "100"], "--width: --preset paper-mnist sets it (only --epochs and --minutes shorten a preset)" },
        { ["train", "--minutes", "-1"], "--minutes must be a finite number in (0, 1000000], or 0 for no time budget (not -1)" },
    };

    [Theory]
    [MemberData(nameof(BadCommands))]
    public void Bad_options_are_one_line_on_stderr_with_exit_1_and_no_file(string[] args, string message)
    {
        Mnist();
        string model = Temp.File("bad.qnn");
        var r = QnnCommand.Run([.. args, "--out", model]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Error);
        Assert.DoesNotContain("   at ", r.Error);
        Assert.Single(r.Error.TrimEnd().Split('\n'));
        Assert.Empty(Directory.GetFiles(Temp.Path));
    }

    [Fact]
    public void Eval_and_run_name_a_missing_or_broken_model()
    {
        string missing = Temp.File("none.qnn");
        var r = QnnCommand.Run("eval", missing, "--limit", "10");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(missing, r.Error);
        string broken = Temp.File("broken.qnn");
        File.WriteAllBytes(broken, new byte[100]);
        var b = QnnCommand.Run("run", broken, "--input", broken);
        Assert.Equal(1, b.ExitCode);
        Assert.Contains(broken, b.Error);
        Assert.DoesNotContain("   at ", b.Error);
    }
}
