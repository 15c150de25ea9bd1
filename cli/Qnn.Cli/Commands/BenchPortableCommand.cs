using System.CommandLine;
using Qnn.Benchmarks.Portable;
using Qnn.Datasets;
using Qnn.Format;
using Spectre.Console;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn bench portable MODEL [--images N] [--dataset D] [--json]`: the portable core's cost on an IL interpreter
/// (nanoCLR executes IL one instruction at a time), as the exact number of IL instructions executed per inference
/// by the current interpreter and by version 1, and their ratio (<see cref="PortableCost"/>). Deterministic: the
/// figure does not depend on the machine or its load.
/// </summary>
public static class BenchPortableCommand
{
    public sealed record Output(string Model, string ModelId, string Inputs, PortableCost.Result Cost);

    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The .qnn model file." };
        var images = new Option<int>("--images") { Description = "Images run through both versions.", DefaultValueFactory = _ => 100 };
        var dataset = new Option<string?>("--dataset") { Description = "Test images of a data set (mnist, idx:PATH) instead of random pixels; a sample must have the model's H*W*C bytes." };
        var json = new Option<bool>("--json") { Description = "Print the counts as JSON." };
        var command = new Command("portable", "IL instructions the portable interpreter executes per inference (its cost on nanoCLR), current against version 1.");
        command.Arguments.Add(model);
        command.Options.Add(images);
        command.Options.Add(dataset);
        command.Options.Add(json);
        command.SetAction(parse => Cli.Run("bench portable", () =>
        {
            string path = parse.GetValue(model)!;
            int n = parse.GetValue(images);
            if (n < 1 || n > 10_000) throw new UserError("--images must be 1-10000");
            QnnModel m = ModelFile.Load(path, out byte[] bytes);
            var (samples, inputs) = Inputs(m, n, parse.GetValue(dataset));
            var cost = Cli.Err.Status().Start("counting IL instructions", _ => PortableCost.Measure(bytes, samples));
            var output = new Output(path, $"{m.ModelId:x16}", inputs, cost);
            if (parse.GetValue(json)) Cli.PrintJson(output);
            else Render(output, m);
            return 0;
        }));
        return command;
    }

    private static (List<byte[]> Images, string Description) Inputs(QnnModel m, int count, string? dataset)
    {
        int bytes = m.InputHeight * m.InputWidth * m.InputChannels;
        var images = new List<byte[]>();
        if (dataset == null)
        {
            var rng = new Random(1);
            for (int s = 0; s < count; s++)
            {
                var image = new byte[bytes];
                rng.NextBytes(image);
                images.Add(image);
            }
            return (images, $"{count} images of random pixels (seed 1)");
        }
        Dataset test;
        try { test = DatasetLoader.Load(dataset).Test; }
        catch (IdxFormatException e) { throw new UserError(e.Message); }
        if (test.SampleBytes != bytes)
            throw new UserError($"{dataset}: images are {test.Height}x{test.Width}x{test.Channels}, the model reads {m.InputHeight}x{m.InputWidth}x{m.InputChannels}");
        for (int s = 0; s < count; s++) images.Add(test.Image(s % test.Count).ToArray());
        return (images, $"the first {count} {dataset} test images");
    }

    private static void Render(Output o, QnnModel m)
    {
        var c = o.Cost;
        var console = Cli.Out;
        console.MarkupLine($"{Markup.Escape(o.Model)} ({o.ModelId}); inputs: {Markup.Escape(o.Inputs)}; both versions gave the same scores on all {c.ScoresCompared}");
        var table = new Table().Title("IL instructions executed (exact count)")
            .AddColumn("interpreter").AddColumn(new TableColumn("per inference, mean").RightAligned())
            .AddColumn(new TableColumn("min").RightAligned()).AddColumn(new TableColumn("max").RightAligned())
            .AddColumn(new TableColumn("load (read + constructor)").RightAligned());
        foreach (var v in new[] { c.Before, c.After })
            table.AddRow(Markup.Escape(v.Name), v.RunInstructionsMean.ToString("N0"), v.RunInstructionsMin.ToString("N0"), v.RunInstructionsMax.ToString("N0"), v.LoadInstructions.ToString("N0"));
        console.Write(table);
        var layers = new Table().Title("per layer, mean (with an observer: a few instructions of its call included)")
            .AddColumn(new TableColumn("#").RightAligned()).AddColumn("layer")
            .AddColumn(new TableColumn("version 1").RightAligned()).AddColumn(new TableColumn("current").RightAligned()).AddColumn(new TableColumn("ratio").RightAligned());
        for (int i = 0; i < m.Layers.Length; i++)
        {
            var l = m.Layers[i];
            string shape = $"{l.Kind} {l.InH}x{l.InW}x{l.InC} -> {l.OutH}x{l.OutW}x{l.OutC}, {l.WeightBits}x{l.InputBits} bits";
            layers.AddRow(i.ToString(), Markup.Escape(shape), c.Before.LayerInstructionsMean[i].ToString("N0"), c.After.LayerInstructionsMean[i].ToString("N0"), $"{c.LayerRatios[i]:F2}x");
        }
        console.Write(layers);
        console.MarkupLine($"ratio, version 1 / current: [bold]{c.Ratio:F2}x[/] fewer IL instructions per inference");
    }
}
