using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using MQTTnet;
using MQTTnet.Protocol;

namespace Qnn.Devices.Fleet;

/// <summary>
/// The host's side of a group (devices/FLEET.md): reads the retained announcement and the devices' statuses,
/// publishes a package's chunks and its signed manifest, announces the previous model again for a rollback, and
/// waits for the devices' answers. A clean session: the host keeps nothing on the broker but retained messages.
/// </summary>
public sealed class FleetHost : IAsyncDisposable
{
    private readonly IMqttClient _client;
    private readonly string _group;
    private readonly ConcurrentDictionary<string, DeviceReport> _devices = new();
    private readonly ConcurrentDictionary<string, bool> _online = new();
    private readonly ConcurrentDictionary<string, (byte[] Status, DateTime Seen)> _statuses = new();
    private long _messages;
    private readonly SemaphoreSlim _changed = new(0);
    private readonly TaskCompletionSource _marked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _marker;

    private FleetHost(IMqttClient client, string group)
    {
        _client = client;
        _group = group;
    }

    public byte[]? AnnouncedBytes { get; private set; }
    public byte[]? PreviousBytes { get; private set; }
    public FleetManifest? Announced => Manifest(AnnouncedBytes);
    public FleetManifest? Previous => Manifest(PreviousBytes);
    public IReadOnlyCollection<DeviceReport> Devices => [.. _devices.Values.OrderBy(d => d.Device, StringComparer.Ordinal)];

    private static FleetManifest? Manifest(byte[]? bytes)
    {
        if (bytes is null || bytes.Length == 0) return null;
        try { return FleetManifest.Parse(bytes); }
        catch (FleetProtocolException) { return null; }
    }

    /// <summary>Connects and reads what the broker retains for the group (waits until the retained messages stop coming).</summary>
    public static async Task<FleetHost> ConnectAsync(FleetBroker broker, string group, CancellationToken cancellation)
    {
        if (!FleetTopics.IsValidName(group)) throw new ArgumentException($"--group {group}: use 1-64 of A-Z a-z 0-9 - _");
        var client = new MqttClientFactory().CreateMqttClient();
        var host = new FleetHost(client, group);
        string clientId = $"qnn-host-{Guid.NewGuid():N}"[..22];
        host._marker = FleetTopics.HostMarker(group, clientId);
        client.ApplicationMessageReceivedAsync += e =>
        {
            host.OnMessage(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload.ToArray());
            return Task.CompletedTask;
        };
        try
        {
            var result = await client.ConnectAsync(broker.Options(clientId, persistent: false).Build(), cancellation);
            if (result.ResultCode != MqttClientConnectResultCode.Success)   // MQTTnet 5 returns a refusal instead of throwing
                throw new MQTTnet.Exceptions.MqttCommunicationException($"refused: {result.ResultCode}{(broker.User is null ? " (no --user given)" : "")}");
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or MQTTnet.Adapter.MqttConnectingFailedException or OperationCanceledException)
        {
            client.Dispose();
            throw new IOException($"--broker {broker}: cannot connect ({e.Message.Split('\n')[0]})");
        }
        var subscribe = new MqttClientSubscribeOptionsBuilder();
        foreach (string topic in new[] { FleetTopics.Announce(group), FleetTopics.Previous(group), FleetTopics.Status(group, "+"), FleetTopics.Online(group, "+"), host._marker })
            subscribe.WithTopicFilter(topic, MqttQualityOfServiceLevel.AtLeastOnce);
        await client.SubscribeAsync(subscribe.Build(), cancellation);
        // The retained messages arrive before the marker published after the subscription: wait for it, so that a slow
        // link (TLS on a loaded machine took over the 300 ms quiet time below) is not read as a group with no model.
        await host.PublishAsync(host._marker, [1], retain: false, cancellation);
        try { await host._marked.Task.WaitAsync(TimeSpan.FromSeconds(5), cancellation); }
        catch (TimeoutException) { }   // a broker that drops it: fall back on the quiet time alone
        await host.SettleAsync(TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(5), cancellation);
        return host;
    }

    private void OnMessage(string topic, byte[] payload)
    {
        if (topic == _marker)
        {
            _marked.TrySetResult();
            return;
        }
        Interlocked.Increment(ref _messages);
        if (topic == FleetTopics.Announce(_group)) AnnouncedBytes = payload;
        else if (topic == FleetTopics.Previous(_group)) PreviousBytes = payload;
        else
        {
            string[] parts = topic.Split('/');   // qnn/GROUP/dev/ID/status|online
            if (parts.Length != 5 || parts[2] != "dev") return;
            string id = parts[3];
            if (parts[4] == "online") _online[id] = payload is [(byte)'1'];
            else if (parts[4] == "status")
            {
                if (payload.Length == 0) { _statuses.TryRemove(id, out _); _devices.TryRemove(id, out _); }
                else _statuses[id] = (payload, DateTime.UtcNow);
            }
            if (_statuses.TryGetValue(id, out var status) &&
                DeviceReport.Parse(id, status.Status, _online.GetValueOrDefault(id), status.Seen) is { } report)
                _devices[id] = report;
        }
        _changed.Release();
    }

    /// <summary>Waits until no message came for <paramref name="quiet"/>, or <paramref name="max"/> passed.</summary>
    public async Task SettleAsync(TimeSpan quiet, TimeSpan max, CancellationToken cancellation)
    {
        var end = DateTime.UtcNow + max;
        while (DateTime.UtcNow < end)
        {
            long before = Interlocked.Read(ref _messages);
            await Task.Delay(quiet, cancellation);
            if (Interlocked.Read(ref _messages) == before) return;
        }
    }

    private Task PublishAsync(string topic, byte[] payload, bool retain, CancellationToken cancellation) =>
        _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithRetainFlag(retain)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellation);

    /// <summary>
    /// Publishes the package's chunks (retained), keeps the announcement it replaces as the previous one, announces the
    /// new manifest (retained), and clears the chunks of the model two pushes old. Returns the bytes published.
    /// </summary>
    public async Task<long> PushAsync(FleetPackage package, CancellationToken cancellation) =>
        await PublishChunksAsync(package, 0, package.Manifest.Chunks, cancellation) + await AnnounceAsync(package.Manifest, cancellation);

    /// <summary>Publishes chunks [<paramref name="from"/>, <paramref name="to"/>) of the package, retained; returns their bytes.</summary>
    public async Task<long> PublishChunksAsync(FleetPackage package, int from, int to, CancellationToken cancellation)
    {
        long bytes = 0;
        for (int i = from; i < to; i++)
        {
            byte[] payload = package.ChunkPayload(i);
            await PublishChunkAsync(package.Manifest, i, payload, cancellation);
            bytes += payload.Length;
        }
        return bytes;
    }

    /// <summary>Publishes one chunk's payload as given (the tests publish damaged ones).</summary>
    public Task PublishChunkAsync(FleetManifest m, int index, byte[] payload, CancellationToken cancellation) =>
        PublishAsync(FleetTopics.Chunk(_group, m.ModelId, index), payload, retain: true, cancellation);

    /// <summary>Announces <paramref name="m"/> (retained), keeping the announcement it replaces as the previous one; returns the bytes.</summary>
    public async Task<long> AnnounceAsync(FleetManifest m, CancellationToken cancellation)
    {
        FleetManifest? current = Announced, before = Previous;
        if (before is not null && before.ModelId != m.ModelId && before.ModelId != current?.ModelId)
            await ClearChunksAsync(before, cancellation);
        if (current is not null && current.Sha256 != m.Sha256)
        {
            await PublishAsync(FleetTopics.Previous(_group), AnnouncedBytes!, retain: true, cancellation);
            PreviousBytes = AnnouncedBytes;
        }
        byte[] announce = m.ToBytes();
        await PublishAsync(FleetTopics.Announce(_group), announce, retain: true, cancellation);
        AnnouncedBytes = announce;
        return announce.Length;
    }

    private async Task ClearChunksAsync(FleetManifest m, CancellationToken cancellation)
    {
        for (int i = 0; i < m.Chunks; i++)
            await PublishAsync(FleetTopics.Chunk(_group, m.ModelId, i), [], retain: true, cancellation);
    }

    /// <summary>
    /// Announces the previous model again (its chunks are still retained; devices that hold it in their other slot
    /// swap back without a transfer). Returns its manifest; throws when there is none.
    /// </summary>
    public async Task<FleetManifest> RollbackAsync(CancellationToken cancellation)
    {
        FleetManifest previous = Previous ?? throw new InvalidDataException($"group {_group}: no previous model to roll back to");
        byte[] current = AnnouncedBytes ?? [];
        await PublishAsync(FleetTopics.Announce(_group), PreviousBytes!, retain: true, cancellation);
        if (current.Length > 0) await PublishAsync(FleetTopics.Previous(_group), current, retain: true, cancellation);
        return previous;
    }

    /// <summary>
    /// Waits until every online device runs <paramref name="m"/> with the host's digest or has refused it, calling
    /// <paramref name="progress"/> on every change; false when <paramref name="timeout"/> passed first.
    /// </summary>
    public async Task<bool> WaitForAsync(FleetManifest m, TimeSpan timeout, Action<IReadOnlyCollection<DeviceReport>>? progress, CancellationToken cancellation)
    {
        var end = DateTime.UtcNow + timeout;
        while (true)
        {
            var devices = Devices;
            progress?.Invoke(devices);
            if (devices.Where(d => d.Online).All(d => d.Agrees(m) || d.Refused(m))) return true;
            var left = end - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return false;
            await _changed.WaitAsync(left < TimeSpan.FromMilliseconds(500) ? left : TimeSpan.FromMilliseconds(500), cancellation);
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_client.IsConnected) await _client.DisconnectAsync();
        }
        catch (Exception e) when (e is MQTTnet.Exceptions.MqttCommunicationException or InvalidOperationException or OperationCanceledException) { }
        _client.Dispose();
        _changed.Dispose();
    }
}
