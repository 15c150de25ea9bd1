using System.Text.Json;
using Qnn.Devices;
using Qnn.Format;

namespace Qnn.Cli.Tests;

/// <summary>`qnn flash` and `qnn inspect --target`, in-process, dry runs only: nothing touches a network or a device.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class FlashCommandTests : TempFolderTest
{
    private string Write(QnnModel model, string name)
    {
        string path = Temp.File(name);
        ModelWriter.WriteFile(model, path);
        return path;
    }

    [Fact]
    public void Esp32_dry_run_on_the_microcontroller_mlp_writes_nanoffs_json_and_reports_a_fit()
    {
        string model = Write(Mlps.Micro(), "micro.qnn");
        var run = QnnCommand.Run("flash", "--target", "esp32", model, "--port", "COM7", "--dry-run");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("fits esp32", run.Out);
        Assert.Contains("weights resident", run.Out);

        string json = Temp.File("micro.nanoff.json");
        using var deploy = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal("COM7", deploy.RootElement.GetProperty("SerialPort").GetString());
        var file = Assert.Single(deploy.RootElement.GetProperty("Files").EnumerateArray());
        Assert.Equal(@"I:\model.qnn", file.GetProperty("DestinationFilePath").GetString());
        Assert.Equal(Path.GetFullPath(model), file.GetProperty("SourceFilePath").GetString());
        Assert.Contains($"nanoff --filedeployment {json} --serialport COM7", run.Out);
        Assert.Contains("dry run", run.Out);
    }

    [Fact]
    public void Esp32_raw_inputs_are_deployed_beside_the_model_and_checked_for_size()
    {
        string model = Write(Mlps.Micro(), "micro.qnn");
        string digit = Temp.File("digit7.bin");
        File.WriteAllBytes(digit, new byte[784]);
        var run = QnnCommand.Run("flash", "--target", "esp32", model, "--input", digit, "--dry-run");
        Assert.True(run.ExitCode == 0, run.Error);
        using var deploy = JsonDocument.Parse(File.ReadAllText(Temp.File("micro.nanoff.json")));
        var files = deploy.RootElement.GetProperty("Files").EnumerateArray().ToArray();
        Assert.Equal(2, files.Length);
        Assert.Equal(@"I:\digit7.raw", files[1].GetProperty("DestinationFilePath").GetString());
        Assert.Equal(digit, files[1].GetProperty("SourceFilePath").GetString());
        Assert.False(deploy.RootElement.TryGetProperty("SerialPort", out _));

        File.WriteAllBytes(digit, new byte[28 * 28 * 3]);
        var wrong = QnnCommand.Run("flash", "--target", "esp32", model, "--input", digit, "--dry-run");
        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("2352 bytes, but the model takes raw images of 1x1x784 = 784 bytes", wrong.Error);
    }

    [Fact]
    public void Esp32_dry_run_on_the_big_mlp_says_it_does_not_fit_and_what_would()
    {
        string model = Write(Mlps.Big(), "big.qnn");
        var run = QnnCommand.Run("flash", "--target", "esp32", model, "--dry-run");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("does not fit esp32", run.Error);
        Assert.Contains("storage (model file) needs", run.Error);
        Assert.Contains("It would fit pi", run.Error);
        Assert.False(File.Exists(Temp.File("big.nanoff.json")));
        Assert.DoesNotContain("nanoff --filedeployment", run.Out);
    }

    [Fact]
    public void Esp32_dry_run_json_carries_the_report_and_the_command()
    {
        string model = Write(Mlps.Micro(), "m.qnn");
        var run = QnnCommand.Run("flash", "--target", "esp32", model, "--dry-run", "--json");
        Assert.True(run.ExitCode == 0, run.Error);
        using var result = JsonDocument.Parse(run.Out);
        var root = result.RootElement;
        Assert.True(root.GetProperty("report").GetProperty("fits").GetBoolean());
        Assert.Equal("resident", root.GetProperty("report").GetProperty("weights").GetString());
        Assert.Equal(new FileInfo(model).Length, root.GetProperty("report").GetProperty("fileBytes").GetInt64());
        Assert.False(root.GetProperty("deployed").GetBoolean());
        Assert.StartsWith("nanoff --filedeployment", Assert.Single(root.GetProperty("commands").EnumerateArray()).GetString());
    }

    [Fact]
    public void Pi_dry_run_prints_the_copy_and_restart_commands()
    {
        string model = Write(Mlps.Big(), "big.qnn");
        string app = Directory.CreateDirectory(Temp.File("publish")).FullName;
        var run = QnnCommand.Run("flash", "--target", "pi", model, "--host", "pi@raspberrypi.local", "--app", app, "--dry-run");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("fits pi", run.Out);
        Assert.Contains($"scp -p {Path.GetFullPath(model)} pi@raspberrypi.local:qnn/model.qnn", run.Out);
        Assert.Contains($"scp -p -r {app} pi@raspberrypi.local:qnn/app", run.Out);
        Assert.Contains("ssh pi@raspberrypi.local sudo systemctl restart qnn-classifier", run.Out);
    }

    [Fact]
    public void Pi_without_a_host_and_unknown_targets_are_one_line_errors()
    {
        string model = Write(Mlps.Micro(), "m.qnn");
        var noHost = QnnCommand.Run("flash", "--target", "pi", model, "--dry-run");
        Assert.Equal(1, noHost.ExitCode);
        Assert.Equal("qnn flash: --target pi needs --host USER@HOST", noHost.Error.Trim());

        var unknown = QnnCommand.Run("flash", "--target", "arduino", model, "--dry-run");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("unknown target (known: esp32, esp32-psram, pi)", unknown.Error);

        var missing = QnnCommand.Run("flash", "--target", "esp32", Temp.File("nope.qnn"), "--dry-run");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("nope.qnn: no such file", missing.Error);
        Assert.DoesNotContain("   at ", missing.Error);
    }

    [Fact]
    public void Target_report_json_shows_both_plans_against_the_limits()
    {
        var model = Mlps.Create(3, 1024, 1024);
        string path = Write(model, "mid.qnn");
        var run = ConsoleCapture.Run(() => global::Qnn.Cli.Commands.TargetReport.Print(ModelFile.Load(path), path, "esp32", json: true));
        Assert.Equal(0, run.ExitCode);
        using var report = JsonDocument.Parse(run.Out);
        var root = report.RootElement;
        Assert.True(root.GetProperty("fits").GetBoolean());
        Assert.Equal("streamed", root.GetProperty("weights").GetString());
        long resident = root.GetProperty("residentPlan").GetProperty("totalBytes").GetInt64();
        long streamed = root.GetProperty("streamedPlan").GetProperty("totalBytes").GetInt64();
        Assert.True(resident > DeviceTargets.Esp32.ModelMemoryBytes && streamed <= DeviceTargets.Esp32.ModelMemoryBytes);
        Assert.Equal(2, root.GetProperty("limits").GetArrayLength());
    }
}
