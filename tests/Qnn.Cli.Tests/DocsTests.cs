using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Qnn.Format;

namespace Qnn.Cli.Tests;

/// <summary>
/// Figures in the READMEs that a command regenerates are checked against that command here, so a doc cannot drift
/// from the code: devices/README.md's table of file sizes and memory plans is `qnn inspect --target esp32 --json`
/// of the test suite's random-weight MLPs.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class DocsTests : TempFolderTest
{
    [Theory]
    [InlineData("micro, 784-256-256-10", 0)]
    [InlineData("big, 784-4096-4096-4096-10", 1)]
    public void The_devices_README_table_is_what_inspect_reports(string row, int which)
    {
        QnnModel model = which == 0 ? Mlps.Micro() : Mlps.Big();
        string path = Temp.File("m.qnn");
        ModelWriter.WriteFile(model, path);
        var run = ConsoleCapture.Run(() => global::Qnn.Cli.Commands.TargetReport.Print(ModelFile.Load(path), path, "esp32", json: true));
        // A model that does not fit the target exits 1; its report is printed all the same.
        using var report = JsonDocument.Parse(run.Out);
        long file = new FileInfo(path).Length;
        long resident = report.RootElement.GetProperty("residentPlan").GetProperty("totalBytes").GetInt64();
        long streamed = report.RootElement.GetProperty("streamedPlan").GetProperty("totalBytes").GetInt64();

        string readme = File.ReadAllText(Path.Combine(Repository.Root, "devices", "README.md"));
        Match m = Regex.Match(readme, @"^\| " + Regex.Escape(row) + @" \| ([\d,]+) B \| ([\d,]+) B \| ([\d,]+) B \|", RegexOptions.Multiline);
        Assert.True(m.Success, $"devices/README.md has no row \"{row}\"");
        long[] documented = [.. Enumerable.Range(1, 3).Select(g => long.Parse(m.Groups[g].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture))];
        Assert.Equal([file, resident, streamed], documented);
    }
}
