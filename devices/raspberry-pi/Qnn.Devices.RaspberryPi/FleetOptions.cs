using System.CommandLine;
using Qnn.Devices.Fleet;

namespace Qnn.Devices.RaspberryPi;

/// <summary>
/// The app's fleet mode (devices/FLEET.md): <c>--fleet mqtts://HOST:PORT --group G --fleet-key fleet.key.pub</c>
/// follows the group's announced model through the broker into an A/B store, reports status, and runs until Ctrl-C.
/// </summary>
public sealed class FleetOptions
{
    public Option<string?> Url { get; } = new("--fleet") { Description = "Follow a fleet: the MQTT broker, mqtt://HOST:PORT or mqtts://HOST:PORT (devices/FLEET.md)." };
    public Option<string?> Group { get; } = new("--group") { Description = "Fleet mode: the device's group." };
    public Option<string?> Id { get; } = new("--device-id") { Description = "Fleet mode: this device's id (also its MQTT client id and, usually, its broker user). Default: the host name." };
    public Option<string?> Key { get; } = new("--fleet-key") { Description = "Fleet mode: the fleet's public key (qnn fleet keygen's .pub); models not signed with it are refused." };
    public Option<string> Store { get; } = new("--store") { Description = "Fleet mode: the folder of the A/B slots.", DefaultValueFactory = _ => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), "qnn-fleet") };
    public Option<string?> User { get; } = new("--fleet-user") { Description = "Fleet mode: user name on the broker (default: the device id); the password is read from QNN_MQTT_PASSWORD." };
    public Option<string?> Ca { get; } = new("--fleet-ca") { Description = "Fleet mode, mqtts: PEM file of the broker's certificate authority (default: the system's)." };

    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { Url, Group, Id, Key, Store, User, Ca }) command.Options.Add(o);
    }

    public async Task<int> RunAsync(ParseResult parse, string? model, CancellationToken cancellation)
    {
        FleetBroker broker;
        string group, id;
        EcdsaSignatureVerifier verifier;
        try
        {
            if (model is not null) throw new ArgumentException("--model: not with --fleet (the fleet's store holds the model)");
            broker = FleetBroker.Parse(parse.GetValue(Url)!, "--fleet");
            group = parse.GetValue(Group) ?? throw new ArgumentException("--group: fleet mode needs the device's group");
            id = parse.GetValue(Id) ?? Environment.MachineName;
            if (!FleetTopics.IsValidName(group)) throw new ArgumentException($"--group {group}: use 1-64 of A-Z a-z 0-9 - _");
            if (!FleetTopics.IsValidName(id)) throw new ArgumentException($"--device-id {id}: use 1-64 of A-Z a-z 0-9 - _");
            string ca = parse.GetValue(Ca) ?? "";
            if (ca.Length > 0 && !File.Exists(ca)) throw new ArgumentException($"--fleet-ca {ca}: no such file");
            broker = broker with
            {
                User = parse.GetValue(User) ?? (Environment.GetEnvironmentVariable("QNN_MQTT_PASSWORD") is null ? null : id),
                Password = Environment.GetEnvironmentVariable("QNN_MQTT_PASSWORD"),
                CaFile = ca.Length > 0 ? ca : null,
            };
            string key = parse.GetValue(Key) ?? throw new ArgumentException("--fleet-key: fleet mode needs the fleet's public key (qnn fleet keygen)");
            verifier = EcdsaSignatureVerifier.Load(key);
        }
        catch (Exception e) when (e is ArgumentException or InvalidDataException)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
        using (verifier)
        {
            try
            {
                await using var device = new FleetDevice(broker, group, id, parse.GetValue(Store)!, verifier) { Log = Console.Error.WriteLine };
                Console.Error.WriteLine($"fleet: {id} runs {(device.Agent.ActiveModel.Length > 0 ? $"model {device.Agent.ActiveModel} from slot {device.Agent.ActiveSlot}" : "no model yet")}");
                await device.StartAsync(cancellation);
                await Task.Delay(Timeout.Infinite, cancellation);
            }
            catch (OperationCanceledException) { }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or MQTTnet.Adapter.MqttConnectingFailedException or MQTTnet.Exceptions.MqttCommunicationException)
            {
                Console.Error.WriteLine($"--fleet {broker}: {e.Message.Split('\n')[0]}");
                return 1;
            }
        }
        return 0;
    }
}
