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
        var command = new Command("status", "A table of the group's devices: model, slot, canary digest against the host's, latency, last seen; exit 1 when any disagrees.");
        broker.AddTo(command);
        command.Options.Add(json);
        command.SetAction(parse => Cli.Run("fleet status", () =>
        {
            FleetBroker where = broker.Read(parse);
            string group = broker.GroupOf(parse);
            return FleetCommand.Wait(async cancel =>
            {
                await using var host = await FleetHost.ConnectAsync(where, group, cancel);
                FleetManifest? m = host.Announced;
                var devices = host.Devices;
                var rows = devices.Select(d => new Row(d.Device, d.Online, d.State, d.Model, d.Slot, d.Canary,
                    m is not null && d.Canary == m.DigestPortable, m is not null && d.Canary == m.DigestFast, m is not null && d.Canary == m.DigestGpu,
                    d.UsPerSample, d.FreeBytes, d.Time, d.LastError, m is not null && d.Agrees(m))).ToList();
                int agree = rows.Count(r => r.Agrees);
                if (parse.GetValue(json)) Cli.PrintJson(new Report(group, m?.ModelId, m?.DigestPortable, rows.Count, agree, rows));
                else Render(group, m, rows);
                return m is not null && rows.Count > 0 && agree == rows.Count ? 0 : 1;
            });
        }));
        return command;
    }

    public sealed record Row(string Device, bool Online, string State, string Model, string Slot, string Canary, bool EqualsPortable, bool EqualsFast,
        bool EqualsGpu, int UsPerSample, long FreeBytes, string LastSeen, string LastError, bool Agrees);

    public sealed record Report(string Group, string? ModelId, string? HostDigest, int Devices, int Agree, IReadOnlyList<Row> Rows);

    private static void Render(string group, FleetManifest? m, List<Row> rows)
    {
        IAnsiConsole console = Cli.Out;
        console.MarkupLine(m is null
            ? $"group [bold]{Markup.Escape(group)}[/]: no model announced"
            : $"group [bold]{Markup.Escape(group)}[/]: model {m.ModelId}, canary set {Markup.Escape(m.CanaryId)}, host's digests portable {m.DigestPortable}, fast {m.DigestFast}, gpu {m.DigestGpu}");
        var table = new Table().AddColumns("device", "online", "model id", "slot", "canary digest", "= portable", "= fast", "= gpu", "µs/sample", "free", "last seen", "last error");
        static string Yes(bool ok) => ok ? "[green]yes[/]" : "[red]no[/]";
        foreach (Row r in rows)
            table.AddRow(Markup.Escape(r.Device), r.Online ? "yes" : "[yellow]no[/]", r.Model.Length > 0 ? r.Model : "none", r.Slot, r.Canary,
                Yes(r.EqualsPortable), Yes(r.EqualsFast), Yes(r.EqualsGpu), r.UsPerSample.ToString(), $"{r.FreeBytes / 1024} KiB", Markup.Escape(r.LastSeen),
                Markup.Escape(r.LastError));
        console.Write(table);
        int agree = rows.Count(r => r.Agrees);
        console.MarkupLine(agree == rows.Count && rows.Count > 0 && m is not null
            ? $"[green]{agree} of {rows.Count}[/] devices run the announced model with the host's canary digest"
            : $"[red]{rows.Count - agree} of {rows.Count}[/] devices do not run the announced model with the host's canary digest");
    }
}
