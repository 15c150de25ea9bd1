using System.Text.Json;
using Qnn.Format;

namespace Qnn.Cli.Tests;

/// <summary>`qnn bench edge` on a small random model: every path measured, figures consistent, bad input refused.</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class BenchEdgeTests : TempFolderTest
{
    [Fact]
    public void Json_report_has_both_paths_and_figures_that_agree_with_each_other()
    {
        string model = Temp.File("m.qnn");
        ModelWriter.WriteFile(Mlps.Create(3, 64), model);
        var r = QnnCommand.Run("bench", "edge", model, "--seconds", "0.05", "--batch", "8", "--json");
        Assert.True(r.ExitCode == 0, r.Error);
        var report = JsonDocument.Parse(r.Out).RootElement;
        long macs = report.GetProperty("binaryMacsPerSample").GetInt64();
        Assert.Equal(784 * 64 * 8 + 64 * 10, macs);   // portable: 8 input planes into 64 units, then 64 into 10
        // fast: the first layer adds pixels under 1-bit weights (not binary MACs), then 64 into 10 by XNOR-popcount.
        Assert.Equal(64 * 10, report.GetProperty("fastBinaryMacsPerSample").GetInt64());
        Assert.Equal(784 * 64, report.GetProperty("fastFirstLayerAddsPerSample").GetInt64());
        var single = report.GetProperty("singleCoreLimit");
        double limit = single.GetProperty("binaryGmacsPerSecond").GetDouble();
        Assert.True(limit > 0);
        // The limit is the fastest kernel measured, by name, and no ratio is above 100 %.
        var kernels = single.GetProperty("kernels").EnumerateArray().ToArray();
        Assert.Contains(kernels, k => k.GetProperty("kernel").GetString()!.StartsWith("scalar"));
        Assert.Equal(kernels.Max(k => k.GetProperty("binaryGmacsPerSecond").GetDouble()), limit);
        Assert.Equal(kernels.MaxBy(k => k.GetProperty("binaryGmacsPerSecond").GetDouble()).GetProperty("kernel").GetString(), single.GetProperty("kernel").GetString());
        Assert.Empty(report.GetProperty("warnings").EnumerateArray());
        var paths = report.GetProperty("paths").EnumerateArray().ToArray();
        Assert.Contains(paths, p => p.GetProperty("path").GetString() == "portable");
        Assert.Contains(paths, p => p.GetProperty("path").GetString() == "fast");
        foreach (var p in paths.Where(p => p.GetProperty("threads").GetInt32() == 1))
        {
            double us = p.GetProperty("microsecondsPerSample").GetDouble();
            double gmacs = p.GetProperty("binaryGmacsPerSecond").GetDouble();
            long pathMacs = p.GetProperty("binaryMacsPerSample").GetInt64();
            Assert.Equal(p.GetProperty("path").GetString() == "fast" ? 64 * 10 : macs, pathMacs);
            Assert.True(us > 0 && p.GetProperty("runs").GetInt32() > 0);
            Assert.Equal(pathMacs / (us * 1000), gmacs, 0.05 * gmacs + 0.01);                  // MACs per µs = GMAC/s
            Assert.Equal(gmacs / limit, p.GetProperty("ratioToLimit").GetDouble(), 0.05 * gmacs / limit + 0.002);
        }
    }

    [Fact]
    public void A_missing_model_or_a_bad_budget_is_one_line_with_exit_1()
    {
        var missing = QnnCommand.Run("bench", "edge", Temp.File("none.qnn"), "--seconds", "0.05");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains(Temp.File("none.qnn"), missing.Error);
        Assert.DoesNotContain("   at ", missing.Error);
        string model = Temp.File("m.qnn");
        ModelWriter.WriteFile(Mlps.Create(3, 16), model);
        var budget = QnnCommand.Run("bench", "edge", model, "--seconds", "-1");
        Assert.Equal(1, budget.ExitCode);
        Assert.Contains("--seconds", budget.Error);
    }
}
