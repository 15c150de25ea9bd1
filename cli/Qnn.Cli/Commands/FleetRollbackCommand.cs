using System.CommandLine;
using Qnn.Devices.Fleet;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn fleet rollback --group G`: announces the model the group ran before the last push again; devices that hold it
/// in their other slot swap back after its self-test, without a transfer. Exit 1 when a device does not follow.
/// </summary>
public static class FleetRollbackCommand
{
    public static Command Create()
    {
        var broker = new FleetCommand.BrokerOptions();
        var timeout = new Option<int>("--timeout") { Description = $"Seconds to wait for the online devices: {FleetCommand.Timeout.Text}.", DefaultValueFactory = _ => 60 };
        var command = new Command("rollback", "Announce the group's previous model again; devices swap back to their other slot.");
        broker.AddTo(command);
        command.Options.Add(timeout);
        command.SetAction(parse => Cli.Run("fleet rollback", () =>
        {
            int seconds = Cli.Check(FleetCommand.Timeout, parse.GetValue(timeout));
            FleetBroker where = broker.Read(parse);
            string group = broker.GroupOf(parse);
            return FleetCommand.Wait(async cancel =>
            {
                await using var host = await FleetHost.ConnectAsync(where, group, cancel);
                FleetManifest previous = await host.RollbackAsync(cancel);
                Console.Error.WriteLine($"qnn fleet rollback: group {group} announces model {previous.ModelId} again; waiting for the devices");
                bool settled = await host.WaitForAsync(previous, TimeSpan.FromSeconds(seconds), FleetCommand.Progress(previous), cancel);
                var devices = host.Devices;
                int agree = devices.Count(d => d.Agrees(previous));
                int offline = devices.Count(d => !d.Online && !d.Agrees(previous));
                Console.Out.WriteLine($"{agree} of {devices.Count} devices run {previous.ModelId} again" + (offline > 0 ? $"; {offline} offline" : ""));
                return settled && agree + offline == devices.Count ? 0 : 1;
            });
        }));
        return command;
    }
}
