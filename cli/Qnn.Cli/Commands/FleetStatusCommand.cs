using System.CommandLine;
using Qnn.Devices.Fleet;
using Spectre.Console;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn fleet status --group G`: one row per device from the statuses the broker retains — model id, slot, whether
/// its canary digest equals the host's portable, fast and GPU digests (from the signed manifest), latency, free
/// memory, last seen, last error. Exit 1 when any device does not run the announced model with the host's digest.
/// </summary>
public static class FleetStatusCommand
{
    public static Command Create()
    {
        var broker = new FleetCommand.BrokerOptions();
        var json = new Option<bool>("--json") { Description = "Print the devices as JSON." };
        var watch = new Option<double>("--watch")
        {
            Description = "Keep the table live, refreshed every N seconds (0.1-3600), until Ctrl-C, --until-agree or --timeout; " +
                          "the exit code is the last table's",
        };
        var untilAgree = new Option<bool>("--until-agree") { Description = "With --watch: stop as soon as every device runs the announced model with the host's digest." };
        var timeout = new Option<double>("--timeout") { Description = "With --watch: stop after N seconds (0: no limit)." };
        var command = new Command("status", "A table of the group's devices: model, slot, canary digest against the host's, latency, last seen; exit 1 when any disagrees.");
        broker.AddTo(command);
        foreach (Option o in new Option[] { json, watch, untilAgree, timeout }) command.Options.Add(o);
        command.SetAction(parse => Cli.Run("fleet status", () =>
        {
            FleetBroker where = broker.Read(parse);
            string group = broker.GroupOf(parse);
            double every = parse.GetValue(watch), limit = parse.GetValue(timeout);
            bool watching = parse.GetResult(watch) is { Implicit: false };
            if (watching && (!(every >= 0.1) || every > 3600)) throw new UserError($"--watch: {every} is outside 0.1-3600 seconds");
            if (watching && parse.GetValue(json)) throw new UserError("--watch: a live table cannot be JSON; use --json without --watch for one report");
            if (!watching && (parse.GetValue(untilAgree) || parse.GetResult(timeout) is { Implicit: false }))
                throw new UserError("--until-agree and --timeout go with --watch");
            if (!(limit >= 0) || limit > 86_400) throw new UserError($"--timeout: {limit} is outside 0-86400 seconds");
            return FleetCommand.Wait(async cancel =>
            {
                await using var host = await FleetHost.ConnectAsync(where, group, cancel);
                if (!watching)
                {
                    var (m, rows) = Snapshot(host);
                    if (parse.GetValue(json)) Cli.PrintJson(new Report(group, m?.ModelId, m?.DigestPortable, rows.Count, rows.Count(r => r.Agrees), rows));
                    else Render(group, m, rows);
                    return Code(m, rows);
                }
                return await Watch(host, group, TimeSpan.FromSeconds(every), parse.GetValue(untilAgree), limit > 0 ? TimeSpan.FromSeconds(limit) : null, cancel);
            });
        }));
        return command;
    }

    private static (FleetManifest? Manifest, List<Row> Rows) Snapshot(FleetHost host)
    {
        FleetManifest? m = host.Announced;
        var rows = host.Devices.Select(d => new Row(d.Device, d.Online, d.State, d.Model, d.Slot, d.Canary,
            m is not null && d.Canary == m.DigestPortable, m is not null && d.Canary == m.DigestFast, m is not null && d.Canary == m.DigestGpu,
            d.UsPerSample, d.FreeBytes, d.Time, d.LastError, m is not null && d.Agrees(m))).ToList();
        return (m, rows);
    }

    private static int Code(FleetManifest? m, List<Row> rows) => m is not null && rows.Count > 0 && rows.All(r => r.Agrees) ? 0 : 1;

    /// <summary>
    /// The live table: redrawn in place on a terminal (Spectre's live display), else one summary line whenever the
    /// count of agreeing devices changes and the whole table at the end. Ctrl-C stops it like --timeout does.
    /// </summary>
    private static async Task<int> Watch(FleetHost host, string group, TimeSpan every, bool untilAgree, TimeSpan? limit, CancellationToken cancel)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        bool Done(FleetManifest? m, List<Row> rows) =>
            cancel.IsCancellationRequested || (untilAgree && Code(m, rows) == 0) || (limit is { } l && clock.Elapsed >= l);
        async Task Pause()
        {
            try { await Task.Delay(every, cancel); }
            catch (OperationCanceledException) { }
        }
        IAnsiConsole console = Cli.Out;
        var (m, rows) = Snapshot(host);
        if (console.Profile.Capabilities.Interactive)
        {
            await console.Live(Table(group, m, rows)).StartAsync(async live =>
            {
                while (!Done(m, rows))
                {
                    await Pause();
                    (m, rows) = Snapshot(host);
                    live.UpdateTarget(Table(group, m, rows));
                }
            });
            console.MarkupLine(Summary(m, rows));
            return Code(m, rows);
        }
        int shown = -1;
        while (true)
        {
            int agree = rows.Count(r => r.Agrees);
            if (agree != shown)
            {
                console.MarkupLine($"{clock.Elapsed.TotalSeconds,6:F1} s: {Summary(m, rows)}");
                shown = agree;
            }
            if (Done(m, rows)) break;
            await Pause();
            (m, rows) = Snapshot(host);
        }
        Render(group, m, rows);
        return Code(m, rows);
    }

    public sealed record Row(string Device, bool Online, string State, string Model, string Slot, string Canary, bool EqualsPortable, bool EqualsFast,
        bool EqualsGpu, int UsPerSample, long FreeBytes, string LastSeen, string LastError, bool Agrees);

    public sealed record Report(string Group, string? ModelId, string? HostDigest, int Devices, int Agree, IReadOnlyList<Row> Rows);

    private static void Render(string group, FleetManifest? m, List<Row> rows)
    {
        Cli.Out.Write(Table(group, m, rows));
        Cli.Out.MarkupLine(Summary(m, rows));
    }

    private static Table Table(string group, FleetManifest? m, List<Row> rows)
    {
        var table = new Table().AddColumns("device", "online", "model id", "slot", "canary digest", "= portable", "= fast", "= gpu", "µs/sample", "free", "last seen", "last error");
        table.Title = new TableTitle(m is null
            ? $"group {Markup.Escape(group)}: no model announced"
            : $"group {Markup.Escape(group)}: model {m.ModelId}, canary set {Markup.Escape(m.CanaryId)}, host's digests portable {m.DigestPortable}, fast {m.DigestFast}, gpu {m.DigestGpu}");
        static string Yes(bool ok) => ok ? "[green]yes[/]" : "[red]no[/]";
        foreach (Row r in rows)
            table.AddRow(Markup.Escape(r.Device), r.Online ? "yes" : "[yellow]no[/]", r.Model.Length > 0 ? r.Model : "none", r.Slot, r.Canary,
                Yes(r.EqualsPortable), Yes(r.EqualsFast), Yes(r.EqualsGpu), r.UsPerSample.ToString(), $"{r.FreeBytes / 1024} KiB", Markup.Escape(r.LastSeen),
                Markup.Escape(r.LastError));
        return table;
    }

    private static string Summary(FleetManifest? m, List<Row> rows)
    {
        int agree = rows.Count(r => r.Agrees);
        return agree == rows.Count && rows.Count > 0 && m is not null
            ? $"[green]{agree} of {rows.Count}[/] devices run the announced model with the host's canary digest"
            : $"[red]{rows.Count - agree} of {rows.Count}[/] devices do not run the announced model with the host's canary digest";
    }
}
