using System.CommandLine;
using Qnn.Devices;
using Qnn.Format;
using Qnn.Runtime.Edge.Fast;
using Spectre.Console;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn inspect MODEL [--json] [--target esp32|pi]`: a Larq-like summary of a .qnn file (header, one row per layer,
/// memory against float-32, the share of binary MACs), after every CRC and the model id have been checked.
/// </summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The .qnn model file." };
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON." };
        var target = new Option<string?>("--target") { Description = "Instead of the summary, the memory plan against a device's limits (esp32, esp32-psram, pi)." };
        var command = new Command("inspect", "Summary of a .qnn model file: header, layers, bytes against float-32, binary MACs, model id and CRCs.");
        command.Arguments.Add(model);
        command.Options.Add(json);
        command.Options.Add(target);
        command.SetAction(parse => Cli.Run("inspect", () =>
        {
            string path = parse.GetValue(model)!;
            QnnModel m = ModelFile.Load(path, out byte[] bytes);   // checks every CRC and the model id, or throws naming the file
            if (parse.GetValue(target) is { } t) return TargetReport.Print(m, path, t, parse.GetValue(json));
            var summary = Summarize(m, path, bytes);
            if (parse.GetValue(json)) Cli.PrintJson(summary);
            else Render(summary, Cli.Out);
            return 0;
        }));
        return command;
    }

    public sealed record LayerSummary(
        int Index, string Kind, int[] Input, int[] Output, int[]? Kernel, int[]? Stride, int[]? Padding, int[]? Pool,
        int WeightBits, int InputBits, bool InputSigned, string OutputKind, int OutputBits,
        long Weights, long WeightBytes, int Thresholds, int FlippedChannels, int Scores, long SectionBytes, long Macs, bool Binary,
        int? UniqueFilters = null, int? UniqueFiltersUpToSign = null, int? Kernels2D = null, int? UniqueKernels2D = null, int? UniqueKernels2DUpToSign = null,
        int GateBits = 0, int CellBits = 0, string WeightCode = "odd",
        int? FastWorkUnit = null, int? FastUnitsShared = null, int? FastUnitsAll = null, bool FastShares = false);

    public sealed record Totals(long Weights, long WeightBytes, long Float32Bytes, double CompressionRatio, double WeightCompressionRatio,
        long Macs, long BinaryMacs, double BinaryMacShare);

    public sealed record Summary(
        string File, long FileBytes, string Version, string ModelId, string ModelIdComputed, bool ModelIdMatches, string Crc,
        int[] Input, int InputBits, string[] Preprocess, int Classes, string[]? Labels,
        IReadOnlyList<LayerSummary> Layers, Totals Totals, IReadOnlyDictionary<string, string> Metadata, bool Sequence = false);

    /// <summary>Everything the summary shows, computed from the model read from <paramref name="bytes"/>.</summary>
    public static Summary Summarize(QnnModel m, string path, byte[] bytes)
    {
        var layers = m.Layers.Select((l, i) => Layer(l, i)).ToList();
        long weights = layers.Sum(l => l.Weights), weightBytes = layers.Sum(l => l.WeightBytes);
        long macs = layers.Sum(l => l.Macs), binaryMacs = layers.Where(l => l.Binary).Sum(l => l.Macs);
        var totals = new Totals(weights, weightBytes, 4 * weights,
            Math.Round(4.0 * weights / bytes.Length, 2), weightBytes == 0 ? 0 : Math.Round(4.0 * weights / weightBytes, 2),
            macs, binaryMacs, macs == 0 ? 0 : Math.Round((double)binaryMacs / macs, 4));
        ulong computed = ModelWriter.ComputeModelId(bytes);
        return new Summary(path, bytes.Length, $"{m.VersionMajor}.{m.VersionMinor}", $"{m.ModelId:x16}", $"{computed:x16}", computed == m.ModelId,
            $"ok (header and {m.SectionCount} sections)", [m.InputHeight, m.InputWidth, m.InputChannels], m.InputBits, PreprocessNames.Of(m.PreprocessFlags),
            m.ClassCount, m.Labels, layers, totals,
            m.MetadataKeys.Zip(m.MetadataValues).GroupBy(kv => kv.First).ToDictionary(g => g.Key, g => g.Last().Second),
            m.Layers[0].Kind == LayerKind.Embedding);
    }

    private static LayerSummary Layer(LayerSpec l, int index)
    {
        bool pool = l.PoolH > 0;
        bool weighted = l.Kind != LayerKind.MaxPool2D;
        // Weights (values, not words): F·KH·KW·C; an Embedding's V·E entries; an LSTM's or GRU's F·(X + H).
        long weights = !weighted ? 0
            : l.Kind == LayerKind.Embedding ? (long)l.InC * l.OutC
            : l.IsRecurrent ? (long)l.GateChannels * (l.InC + l.OutC)
            : (long)l.OutC * l.KernelH * l.KernelW * l.InC;
        long macs = l.Macs;
        int flipped = Enumerable.Range(0, l.OutC).Count(c => l.Output == OutputKind.Thresholds && l.IsFlipped(c));
        var repeats = FilterRepetitions.Of(l);
        // What the fast path on this machine does with them (FilterSharing): units of work with and without sharing.
        var units = FilterSharing.WorkUnits(l, index);
        return new LayerSummary(index, ModelValidator.KindName(l.Kind), [l.InH, l.InW, l.InC], [l.OutH, l.OutW, l.OutC],
            weighted ? [l.KernelH, l.KernelW] : null, weighted ? [l.StrideH, l.StrideW] : null,
            weighted ? [l.PadTop, l.PadLeft, l.PadBottom, l.PadRight] : null,
            pool ? [l.PoolH, l.PoolW, l.PoolStrideH, l.PoolStrideW] : null,
            l.WeightBits, l.InputBits, l.InputSigned,
            l.Output switch { OutputKind.Thresholds => "thresholds", OutputKind.Scores => "scores", OutputKind.Levels => "levels", _ => "pooled" },
            l.OutputBits, weights, 4L * l.WeightWords,
            l.Output == OutputKind.Thresholds ? l.OutC * l.Levels : l.GateThresholdCount + l.StateThresholdCount,
            l.IsRecurrent ? Enumerable.Range(0, l.GateChannels).Count(l.IsFlipped) : flipped,
            l.Output == OutputKind.Scores ? l.OutC : 0, l.DataLength, macs,
            weighted && l.WeightBits == 1 && l.InputBits == 1 && l.InputSigned,
            repeats?.Unique, repeats?.UniqueUpToSign, repeats?.Kernels2D, repeats?.UniqueKernels2D, repeats?.UniqueKernels2DUpToSign,
            l.GateBits, l.CellBits, l.WeightCode == WeightCode.Log ? "log" : "odd",
            units is null ? null : FilterSharing.WorkUnit(l, index), units?.Unique, units?.All,
            units is not null && FilterSharing.ComputedFilters(l, index) < l.OutC);
    }

    /// <summary>Whether the fast path computes each unique filter once here (FilterSharing): only where that saves whole units of work.</summary>
    private static string FastSharing(LayerSummary l)
    {
        string unit = l.FastWorkUnit == 1 ? "filters" : $"units of {l.FastWorkUnit} filters";
        return l.FastShares ? $"the fast path shares them: computes {l.FastUnitsShared} of {l.FastUnitsAll} {unit} and copies"
            : l.FastUnitsShared < l.FastUnitsAll
                ? $"the fast path does not share (it would compute {l.FastUnitsShared} of {l.FastUnitsAll} {unit}, but save fewer than {FilterSharing.MinSavedWordsPerCopy} popcount words per copy)"
                : $"the fast path does not share (the unique filters take {l.FastUnitsShared} of {l.FastUnitsAll} {unit}: no saving)";
    }

    private static string Shape(int[] s) => string.Join("x", s);

    public static void Render(Summary s, IAnsiConsole console)
    {
        console.MarkupLine($"[bold]{Markup.Escape(s.File)}[/]  format v{s.Version}, {s.FileBytes:N0} bytes, model id [bold]{s.ModelId}[/] " +
            (s.ModelIdMatches ? "[green](recomputed: matches)[/]" : $"[red](recomputed: {s.ModelIdComputed})[/]") + $", CRC {s.Crc}");
        // A language model's labels are its vocabulary: the first ten of them.
        string labels = s.Labels is null ? "no labels" : "labels: " + string.Join(", ", s.Labels.Take(s.Labels.Length > 20 ? 10 : 20).Select(l => $"\"{l}\""))
            + (s.Labels.Length > 20 ? $", … ({s.Labels.Length:N0} in all)" : "");
        console.MarkupLine(Markup.Escape($"input {Shape(s.Input)}, {s.InputBits}-bit unsigned; preprocess: " +
            (s.Preprocess.Length == 0 ? "none" : string.Join(", ", s.Preprocess)) + $"; {s.Classes} classes, {labels}"));

        var table = new Table().AddColumns("#", "layer", "input → output", "bits w·a→out", "weights", "bytes", "thresholds", "MACs", "binary");
        foreach (var l in s.Layers)
        {
            bool sequenceLayer = l.Kind is "Embedding" or "LSTM" or "GRU";
            string layer = sequenceLayer ? l.Kind + (l.GateBits > 0 ? $" g={l.GateBits}" : "") + (l.CellBits > 0 ? $" s={l.CellBits}" : "") :
                l.Kind + (l.Kernel is null ? "" : $" {Shape(l.Kernel)}")
                + (l.Stride is { } st && (st[0] != 1 || st[1] != 1) ? $" stride {Shape(st)}" : "")
                + (l.Padding is { } p && p.Any(x => x != 0) ? " pad " + string.Join(",", p) : "")
                + (l.Pool is { } pool ? $" pool {pool[0]}x{pool[1]}" + (pool[2] != pool[0] || pool[3] != pool[1] ? $"/{pool[2]}x{pool[3]}" : "") : "");
            string bits = l.Kind == "MaxPool2D" ? $"{l.InputBits}→{l.OutputBits}"
                : $"{l.WeightBits}{(l.WeightCode == "log" ? "L" : "")}·{l.InputBits}{(l.InputSigned ? "" : "u")}→{(l.OutputKind == "scores" ? "scores" : l.OutputBits.ToString())}";
            string outputs = l.OutputKind switch
            {
                "thresholds" => $"{l.Thresholds:N0}" + (l.FlippedChannels > 0 ? $" ({l.FlippedChannels} flipped)" : ""),
                "scores" => $"{l.Scores} scores",
                "levels" when l.Thresholds > 0 => $"{l.Thresholds:N0}" + (l.FlippedChannels > 0 ? $" ({l.FlippedChannels} flipped)" : ""),
                _ => "",
            };
            table.AddRow(l.Index.ToString(), layer, $"{Shape(l.Input)} → {Shape(l.Output)}", bits,
                l.Weights.ToString("N0"), Bytes.Format(l.WeightBytes), outputs, l.Macs.ToString("N0"), l.Binary ? "yes" : "");
        }
        var t = s.Totals;
        table.AddRow("", "[bold]total[/]", "", "", $"[bold]{t.Weights:N0}[/]", $"[bold]{Bytes.Format(t.WeightBytes)}[/]", "",
            $"[bold]{t.Macs:N0}[/]", $"[bold]{t.BinaryMacShare:P1}[/]");
        console.Write(table);
        console.MarkupLine(Markup.Escape($"float-32 equivalent of the weights: {Bytes.Format(t.Float32Bytes)}; packed weights {Bytes.Format(t.WeightBytes)} " +
            $"({t.WeightCompressionRatio:0.##}x smaller); whole file {Bytes.Format(s.FileBytes)} ({t.CompressionRatio:0.##}x smaller)"));
        console.MarkupLine(Markup.Escape($"binary (1-bit x 1-bit) MACs: {t.BinaryMacs:N0} of {t.Macs:N0} ({t.BinaryMacShare:P1}); 'u' marks the unsigned 8-bit input read through bit-planes" +
            (s.Layers.Any(l => l.WeightCode == "log") ? "; 'L' marks log weights ±2^e (SPEC 1.3)" : "")));
        foreach (var l in s.Layers.Where(l => l.Kind == "Conv2D" && l.UniqueFilters is not null))
        {
            int filters = l.Output[2];
            console.MarkupLine(Markup.Escape($"layer {l.Index} Conv2D: {l.UniqueFilters} of {filters} filters unique ({(double)l.UniqueFilters!.Value / filters:P0}), " +
                $"{l.UniqueFiltersUpToSign} up to sign ({(double)l.UniqueFiltersUpToSign!.Value / filters:P0}); 2D kernels (the paper's count): " +
                $"{l.UniqueKernels2D} of {l.Kernels2D} unique ({(double)l.UniqueKernels2D!.Value / l.Kernels2D!.Value:P0}), {l.UniqueKernels2DUpToSign} up to sign " +
                $"({(double)l.UniqueKernels2DUpToSign!.Value / l.Kernels2D.Value:P0}); " + FastSharing(l)));
        }
        foreach (var l in s.Layers.Where(l => l.Kind == "Dense" && l.FastUnitsShared < l.FastUnitsAll))
            console.MarkupLine(Markup.Escape($"layer {l.Index} Dense: {l.UniqueFiltersUpToSign} of {l.Output[2]} filters unique up to sign; " + FastSharing(l)));
        console.MarkupLine(Markup.Escape($"MACs per {(s.Sequence ? "token (step)" : "inference")}: {t.Macs:N0} of the format's limit of {FormatConstants.MaxMacs:N0} (2^31, SPEC section 4)"));
        if (s.Sequence)
            console.MarkupLine(Markup.Escape("sequence model (SPEC 1.10): g = gate bits, s = cell bits; an Embedding's MACs are 0 (a row lookup), an LSTM's or GRU's are F·(X + H) per token"));
        if (s.Metadata.Count > 0)
            console.MarkupLine(Markup.Escape("metadata: " + string.Join(", ", s.Metadata.Select(kv => $"{kv.Key}={kv.Value}"))));
    }
}
