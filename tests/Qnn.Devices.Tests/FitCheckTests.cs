using Qnn.Format;
using Qnn.Runtime.Edge;

namespace Qnn.Devices.Tests;

public class FitCheckTests
{
    private static long FileBytes(QnnModel model) => ModelWriter.Write(model).Length;

    [Fact]
    public void Microcontroller_mlp_fits_a_plain_esp32_with_weights_resident()
    {
        var model = Mlps.Micro();
        var report = FitCheck.Check(model, FileBytes(model), DeviceTargets.Esp32);
        Assert.True(report.Fits, report.Summary);
        Assert.Equal(WeightPlacement.Resident, report.Placement);
        Assert.True(FileBytes(model) < 40 * 1024);
        Assert.Equal(MemoryPlan.Compute(model, false).TotalBytes, report.Plan.TotalBytes);
        Assert.Empty(report.FitsInstead);
    }

    [Fact]
    public void Big_mlp_does_not_fit_an_esp32_and_names_the_pi_instead()
    {
        var model = Mlps.Big();
        long file = FileBytes(model);
        var report = FitCheck.Check(model, file, DeviceTargets.Esp32);
        Assert.False(report.Fits);
        var storage = Assert.Single(report.Limits, l => !l.Fits);
        Assert.Equal(file, storage.NeedBytes);
        Assert.Equal(DeviceTargets.Esp32.StorageBytes, storage.HaveBytes);
        // Streamed, the weights need only one filter's buffer: the heap is not the problem, the flash is.
        Assert.Equal(WeightPlacement.Streamed, report.Placement);
        Assert.Equal([DeviceTargets.Pi], report.FitsInstead);
        Assert.Contains("does not fit esp32", report.Summary);
        Assert.Contains("It would fit pi", report.Summary);
        Assert.False(FitCheck.Check(model, file, DeviceTargets.Esp32Psram).Fits);
        Assert.True(FitCheck.Check(model, file, DeviceTargets.Pi).Fits);
    }

    [Fact]
    public void Weights_over_the_heap_but_within_the_flash_are_streamed()
    {
        var model = Mlps.Create(3, 1024, 1024);
        long file = FileBytes(model);
        var report = FitCheck.Check(model, file, DeviceTargets.Esp32);
        Assert.True(file <= DeviceTargets.Esp32.StorageBytes, $"{file} bytes");
        Assert.True(MemoryPlan.Compute(model, false).TotalBytes > DeviceTargets.Esp32.ModelMemoryBytes);
        Assert.True(report.Fits, report.Summary);
        Assert.Equal(WeightPlacement.Streamed, report.Placement);
        Assert.Equal(MemoryPlan.Compute(model, true).TotalBytes, report.Plan.TotalBytes);
        // With PSRAM the same model is held resident.
        Assert.Equal(WeightPlacement.Resident, FitCheck.Check(model, file, DeviceTargets.Esp32Psram).Placement);
    }

    [Fact]
    public void A_model_no_target_takes_says_so()
    {
        var model = Mlps.Micro();
        var report = FitCheck.Check(model, 8L << 30, DeviceTargets.Pi);
        Assert.False(report.Fits);
        Assert.Empty(report.FitsInstead);
        Assert.Contains("No target in the table fits it", report.Summary);
    }

    [Fact]
    public void The_table_has_the_three_targets_with_their_limits()
    {
        Assert.Equal(["esp32", "esp32-psram", "pi"], DeviceTargets.All.Select(t => t.Name));
        Assert.Equal(84 * 1024, DeviceTargets.Esp32.MemoryBytes);
        Assert.Equal(256 * 1024, DeviceTargets.Esp32.StorageBytes);
        Assert.True(DeviceTargets.Esp32Psram.ModelMemoryBytes > DeviceTargets.Esp32.ModelMemoryBytes);
        Assert.All(DeviceTargets.All, t => Assert.True(t.ModelMemoryBytes > 0));
        Assert.Same(DeviceTargets.Pi, DeviceTargets.Find("PI"));
        Assert.Null(DeviceTargets.Find("arduino"));
    }

    [Fact]
    public void Shell_commands_quote_what_a_shell_would_split()
    {
        var command = new ToolCommand("scp", ["-p", "models/my model.qnn", "pi@host:qnn/model.qnn", "it's"]);
        Assert.Equal("scp -p 'models/my model.qnn' pi@host:qnn/model.qnn 'it'\\''s'", command.Display);
    }
}
