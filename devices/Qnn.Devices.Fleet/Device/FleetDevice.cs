using System.Buffers;
using System.Collections.Concurrent;
using MQTTnet;
using MQTTnet.Protocol;

namespace Qnn.Devices.Fleet;

/// <summary>
/// A Pi in a fleet: the portable <see cref="FleetAgent"/> on MQTTnet, a folder store, .NET's ECDSA and the fast
/// interpreter. One loop takes the broker's messages in order and runs the agent; the connection has a persistent
/// session (client id = device id), a retained last will ("0" on the online topic) and reconnects by itself.
/// </summary>
public sealed class FleetDevice : IAsyncDisposable
{
    private readonly FleetBroker _broker;
    private readonly string _group;
    private readonly string _id;
    private readonly IMqttClient _client;
    private readonly BlockingCollection<Action> _work = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Transport _transport;
    private Thread? _loop;
    private Task? _keeper;

    public FleetAgent Agent { get; }

    /// <summary>A message log for the Pi app's console (one line per event), or null.</summary>
    public Action<string>? Log { get; init; }

    public FleetDevice(FleetBroker broker, string group, string id, string storeFolder, ISignatureVerifier verifier, int window = 4)
    {
        _broker = broker;
        _group = group;
        _id = id;
        _client = new MqttClientFactory().CreateMqttClient();
        _transport = new Transport(_client);
        var storage = new FileFleetStorage(storeFolder);
        Agent = new FleetAgent(group, id, _transport, storage, verifier, new FastCanaryRunner(storage), new ProcessInfo(), window);
        _client.ApplicationMessageReceivedAsync += e =>
        {
            string topic = e.ApplicationMessage.Topic;
            byte[] payload = e.ApplicationMessage.Payload.ToArray();
            try
            {
                _work.Add(() => Agent.OnMessage(topic, payload));
            }
            catch (Exception x) when (x is ObjectDisposedException or InvalidOperationException) { }   // stopping
            return Task.CompletedTask;
        };
    }

    public bool Connected => _client.IsConnected;

    /// <summary>Connects (retrying until <paramref name="cancellation"/>) and starts the message loop and the reconnecting keeper.</summary>
    public async Task StartAsync(CancellationToken cancellation)
    {
        // One thread of its own: the agent blocks on the broker's acknowledgements, which must not wait for pool threads.
        _loop = new Thread(RunLoop) { IsBackground = true, Name = $"fleet {_id}" };
        _loop.Start();
        await ConnectAsync(cancellation);
        _keeper = Task.Run(KeepConnectedAsync);
    }

    private async Task ConnectAsync(CancellationToken cancellation)
    {
        var options = _broker.Options(_id, persistent: true)
            .WithWillTopic(FleetTopics.Online(_group, _id))
            .WithWillPayload("0"u8.ToArray())
            .WithWillRetain()
            .WithWillQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellation, _stop.Token);
        var result = await _client.ConnectAsync(options, both.Token);
        if (result.ResultCode != MqttClientConnectResultCode.Success)   // MQTTnet 5 returns a refusal instead of throwing
            throw new IOException($"{_broker} refused {_id}: {result.ResultCode}");
        Log?.Invoke($"fleet: {_id} connected to {_broker}, group {_group}");
        _work.Add(Agent.OnConnected, both.Token);
    }

    private async Task KeepConnectedAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(250, _stop.Token);
                if (_client.IsConnected) continue;
                Log?.Invoke($"fleet: {_id} lost the broker, reconnecting");
                await ConnectAsync(_stop.Token);
            }
            catch (OperationCanceledException) { return; }
            catch (Exception e) when (e is IOException or MQTTnet.Exceptions.MqttCommunicationException or MQTTnet.Adapter.MqttConnectingFailedException or InvalidOperationException)
            {
                Log?.Invoke($"fleet: {_id}: {e.Message.Split('\n')[0]}");
                await Task.Delay(500, CancellationToken.None);
            }
        }
    }

    private void RunLoop()
    {
        try
        {
            foreach (var work in _work.GetConsumingEnumerable(_stop.Token))
            {
                try
                {
                    work();
                }
                catch (Exception e) when (e is IOException or MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException or OperationCanceledException)
                {
                    // The connection dropped while the agent published or subscribed: the keeper reconnects, and
                    // OnConnected asks again for what is missing.
                    Log?.Invoke($"fleet: {_id}: {e.Message}");
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Leaves like a device that loses power: no DISCONNECT, so the broker publishes the last will.</summary>
    public async Task CrashAsync()
    {
        await _stop.CancelAsync();
        _client.Dispose();
        await WaitAsync();
    }

    /// <summary>Disconnects cleanly (the session stays on the broker) after marking the device offline.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
            await WaitAsync();
            try
            {
                if (_client.IsConnected)
                {
                    await _transport.PublishAsync(FleetTopics.Online(_group, _id), "0"u8.ToArray(), true);
                    await _client.DisconnectAsync();
                }
            }
            catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException or OperationCanceledException) { }
        }
        _client.Dispose();
        _stop.Dispose();
        _work.Dispose();
    }

    private async Task WaitAsync()
    {
        if (_keeper is not null) await _keeper;
        _loop?.Join();
    }

    /// <summary>The agent's port on MQTTnet; called from the message loop, where blocking is allowed.</summary>
    private sealed class Transport(IMqttClient client) : IFleetTransport
    {
        public void Subscribe(string topic) =>
            client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(topic, MqttQualityOfServiceLevel.AtLeastOnce).Build()).GetAwaiter().GetResult();

        public void Unsubscribe(string topic) =>
            client.UnsubscribeAsync(new MqttClientUnsubscribeOptionsBuilder().WithTopicFilter(topic).Build()).GetAwaiter().GetResult();

        public void Publish(string topic, byte[] payload, bool retain) => PublishAsync(topic, payload, retain).GetAwaiter().GetResult();

        public Task PublishAsync(string topic, byte[] payload, bool retain) =>
            client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithRetainFlag(retain)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());
    }

    private sealed class ProcessInfo : IDeviceInfo
    {
        public long FreeBytes() => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes - GC.GetTotalMemory(false);
        public string Now() => DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ");
    }
}
