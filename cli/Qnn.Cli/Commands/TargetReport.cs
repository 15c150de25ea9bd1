using Qnn.Devices;
using Qnn.Format;
using Qnn.Runtime.Edge;
using Spectre.Console;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn inspect MODEL --target esp32|esp32-psram|pi`: the memory plan (weights resident or streamed, activations,
/// scratch, object and array headers) and the file against a device's limits from devices/Qnn.Devices/DeviceTargets.cs, and whether it fits.
/// `qnn flash` prints the same report before it deploys.
/// </summary>
public static class TargetReport
{
    /// <summary>Prints the plan of <paramref name="model"/> on <paramref name="target"/>; returns the exit code.</summary>
    public static int Print(QnnModel model, string path, string target, bool json)
    {
        var report = Check(model, path, target);
        if (json) Cli.PrintJson(ToJson(report, path));
        else Render(report, path, Cli.Out);
        return 0;
    }

    /// <summary>The fit of the model file at <paramref name="path"/> on the target named <paramref name="target"/>.</summary>
    public static FitReport Check(QnnModel model, string path, string target)
    {
        var device = DeviceTargets.Find(target)
            ?? throw new UserError($"--target {target}: unknown target (known: {DeviceTargets.Names})");
        return FitCheck.Check(model, new FileInfo(path).Length, device);
    }

    /// <summary>The report as the --json object of inspect and flash.</summary>
    public static object ToJson(FitReport report, string path) => new
    {
        model = path,
        target = report.Target.Name,
        board = report.Target.Board,
        fits = report.Fits,
        weights = report.Placement switch { WeightPlacement.Resident => "resident", WeightPlacement.Streamed => "streamed", _ => null },
        fileBytes = report.FileBytes,
        storageBytes = report.Target.StorageBytes,
        memoryBytes = report.Target.MemoryBytes,
        reservedBytes = report.Target.ReservedBytes,
        modelMemoryBytes = report.Target.ModelMemoryBytes,
        limits = report.Limits.Select(l => new { name = l.Name, needBytes = l.NeedBytes, haveBytes = l.HaveBytes, fits = l.Fits }),
        residentPlan = PlanJson(report.ResidentPlan),
        streamedPlan = report.StreamedPlan is null ? null : PlanJson(report.StreamedPlan),
        fitsInstead = report.FitsInstead.Select(t => t.Name),
        summary = report.Summary,
        sources = report.Target.Sources,
    };

    private static object PlanJson(MemoryPlan plan) => new
    {
        weightBytes = plan.WeightBytes,
        activationBytes = plan.ActivationBytes,
        scratchBytes = plan.ScratchBytes,
        objectBytes = plan.ObjectBytes,
        totalBytes = plan.TotalBytes,
        loadBytes = plan.LoadBytes,
        layerWeightBytes = plan.LayerWeightBytes,
        layerActivationBytes = plan.LayerActivationBytes,
    };

    /// <summary>Two tables (the plans, the limits) and the verdict in one line.</summary>
    public static void Render(FitReport report, string path, IAnsiConsole console)
    {
        var target = report.Target;
        console.MarkupLine($"[bold]{Markup.Escape(path)}[/] on [bold]{target.Name}[/]: {Markup.Escape(target.Board)}");

        var plans = new Table().AddColumns("memory plan", "weights", "activations", "scratch", "objects and headers", "total");
        AddPlan(plans, "weights resident", report.ResidentPlan, report.Placement == WeightPlacement.Resident);
        if (report.StreamedPlan is not null)
            AddPlan(plans, "weights streamed layer by layer", report.StreamedPlan, report.Placement == WeightPlacement.Streamed);
        console.Write(plans);

        var limits = new Table().AddColumns("limit", "model needs", "target has", "");
        foreach (var l in report.Limits)
            limits.AddRow(Markup.Escape(l.Name), Bytes.Format(l.NeedBytes), Bytes.Format(l.HaveBytes), l.Fits ? "[green]ok[/]" : "[red]too big[/]");
        console.Write(limits);
        console.MarkupLine($"[grey]memory: {Bytes.Format(target.MemoryBytes)}, of which {Bytes.Format(target.ReservedBytes)} is kept for the runtime and the app[/]");
        console.MarkupLine((report.Fits ? "[green]" : "[red]") + Markup.Escape(report.Summary) + "[/]");
    }

    private static void AddPlan(Table table, string name, MemoryPlan plan, bool chosen) =>
        table.AddRow(chosen ? $"[bold]{name}[/] (chosen)" : name, Bytes.Format(plan.WeightBytes), Bytes.Format(plan.ActivationBytes),
            Bytes.Format(plan.ScratchBytes), Bytes.Format(plan.ObjectBytes), Bytes.Format(plan.TotalBytes));
}
