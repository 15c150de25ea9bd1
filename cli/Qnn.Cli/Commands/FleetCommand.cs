using System.CommandLine;
using Qnn.Devices.Fleet;
using Qnn.Trainer.Training;

namespace Qnn.Cli.Commands;

/// <summary>`qnn fleet`: models pushed to groups of devices through an MQTT broker (devices/FLEET.md), one verb per file.</summary>
public static class FleetCommand
{
    public static Command Create()
    {
        var fleet = new Command("fleet", "Push signed models to groups of devices through an MQTT broker and check that every device computes the host's integers.");
        fleet.Subcommands.Add(FleetKeygenCommand.Create());
        fleet.Subcommands.Add(FleetPushCommand.Create());
        fleet.Subcommands.Add(FleetStatusCommand.Create());
        fleet.Subcommands.Add(FleetRollbackCommand.Create());
        return fleet;
    }

    public static readonly OptionRange Timeout = new("--timeout", 1, 3600);
    public static readonly OptionRange Canary = new("--canary", 1, 1024);
    public static readonly OptionRange ChunkSize = new("--chunk-size", FleetManifest.MinChunkBytes, FleetManifest.MaxChunkBytes);

    /// <summary>The broker and group options every verb that talks to a broker takes.</summary>
    public sealed class BrokerOptions
    {
        public Option<string> Broker { get; } = new("--broker")
        {
            Description = "The MQTT broker: mqtt://HOST:PORT, or mqtts://HOST:PORT for TLS (default port 1883 / 8883).",
            DefaultValueFactory = _ => "mqtt://127.0.0.1:1883",
        };
        public Option<string> Group { get; } = new("--group") { Description = "The group of devices (1-64 of A-Z a-z 0-9 - _).", Required = true };
        public Option<string?> User { get; } = new("--user") { Description = "User name on the broker; the password is read from QNN_MQTT_PASSWORD." };
        public Option<string?> Ca { get; } = new("--ca") { Description = "mqtts: a PEM file of the certificate authority that signed the broker's certificate (default: the system's)." };

        public void AddTo(Command command)
        {
            foreach (Option o in new Option[] { Broker, Group, User, Ca }) command.Options.Add(o);
        }

        public FleetBroker Read(ParseResult parse)
        {
            FleetBroker broker;
            try
            {
                broker = FleetBroker.Parse(parse.GetValue(Broker)!);
            }
            catch (ArgumentException e) { throw new UserError(e.Message); }
            string group = parse.GetValue(Group)!;
            if (!FleetTopics.IsValidName(group)) throw new UserError($"--group {group}: use 1-64 of A-Z a-z 0-9 - _");
            string? ca = parse.GetValue(Ca);
            if (ca is not null && !File.Exists(ca)) throw new UserError($"--ca {ca}: no such file");
            if (ca is not null && !broker.Tls) throw new UserError($"--ca {ca}: only with an mqtts:// broker");
            return broker with { User = parse.GetValue(User), Password = Environment.GetEnvironmentVariable("QNN_MQTT_PASSWORD"), CaFile = ca };
        }

        public string GroupOf(ParseResult parse) => parse.GetValue(Group)!;
    }

    /// <summary>Runs an async body on the CLI's synchronous path, with Ctrl-C cancelling it.</summary>
    public static T Wait<T>(Func<CancellationToken, Task<T>> body)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler handler = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += handler;
        try
        {
            return body(cancel.Token).GetAwaiter().GetResult();
        }
        catch (ArgumentException e) { throw new UserError(e.Message); }
        catch (FleetProtocolException e) { throw new UserError(e.Message); }
        catch (MQTTnet.Exceptions.MqttCommunicationException e) { throw new IOException($"broker: {e.Message.Split('\n')[0]}"); }
        finally
        {
            Console.CancelKeyPress -= handler;
        }
    }

    /// <summary>One line per device while a push or rollback runs (stderr): new model, refused, or chunks received.</summary>
    public static Action<IReadOnlyCollection<DeviceReport>> Progress(FleetManifest m)
    {
        var shown = new Dictionary<string, string>();
        return devices =>
        {
            foreach (DeviceReport d in devices)
            {
                string line = !d.Online ? "offline: gets the model when it reconnects"
                    : d.Agrees(m) ? $"runs {m.ModelId} in slot {d.Slot}, canary digest = host's"
                    : d.Refused(m) ? $"refused: {d.LastError}"
                    : d.Transfer == m.ModelId ? $"receiving {d.Received}/{d.Chunks} chunks"
                    : d.Model == m.ModelId ? $"runs {m.ModelId}, canary digest {d.Canary} differs from the host's {m.DigestPortable}"
                    : "waiting";
                if (shown.TryGetValue(d.Device, out string? before) && before == line) continue;
                shown[d.Device] = line;
                Console.Error.WriteLine($"  {d.Device}: {line}");
            }
        };
    }
}
