using System.Globalization;
using System.Text.RegularExpressions;
using Qnn.Format;
using Qnn.Runtime.Edge;
using Qnn.TestSupport;
using Qnn.Trainer.Export;
using Qnn.Trainer.Training;

namespace Qnn.Trainer.Tests;

/// <summary>
/// The READMEs' byte counts are what the code gives: the memory plans of runtime-edge/README.md are recomputed from
/// the models the trainer's architectures export (the plan depends on the shapes and bit widths only, not on what
/// the network learned), so a change of the format, the exporter or the plan that moves a figure fails here.
/// </summary>
public class ReadmeFigureTests
{
    public static TheoryData<string, string, int, int> Rows => new()
    {
        { "mlp-micro 784-256-256-10, 1 bit", "mlp-micro", 256, 1 },
        { "MLP 3×1024, 1 bit", "mlp", 1024, 1 },
        { "conv 32-64-256, 2-bit activations", "conv", 32, 2 },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void The_runtime_edge_README_memory_plans_are_what_the_exported_models_need(string row, string arch, int width, int actBits)
    {
        var options = new TrainOptions { Arch = arch, Width = width, ActBits = actBits, Epochs = 1, Batch = 50, TrainLimit = 100, Validation = 100 };
        using var trainer = new TrainingLoop(options, TestData.Mnist.Train);
        var model = ModelFile.Parse(ModelWriter.Write(ModelExporter.Export(trainer.Network, "mnist").Model), arch);

        string readme = File.ReadAllText(Path.Combine(Repository.Root, "runtime-edge", "README.md"));
        // "| model (comment) | resident | w | a | s | o | total |" then "| | streamed | w | a | s | o | total |".
        Match m = Regex.Match(readme, @"^\| " + Regex.Escape(row) + @"[^|]*\| resident \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|\n\| \| streamed \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|",
            RegexOptions.Multiline);
        Assert.True(m.Success, $"runtime-edge/README.md has no resident and streamed rows for \"{row}\"");
        long[] documented = [.. Enumerable.Range(1, 10).Select(g => long.Parse(m.Groups[g].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture))];
        var resident = MemoryPlan.Compute(model, false);
        var streamed = MemoryPlan.Compute(model, true);
        long[] computed = [resident.WeightBytes, resident.ActivationBytes, resident.ScratchBytes, resident.ObjectBytes, resident.TotalBytes,
            streamed.WeightBytes, streamed.ActivationBytes, streamed.ScratchBytes, streamed.ObjectBytes, streamed.TotalBytes];
        Assert.True(computed.SequenceEqual(documented), $"runtime-edge/README.md, \"{row}\": documented {string.Join(", ", documented)}, computed {string.Join(", ", computed)}");
    }
}
