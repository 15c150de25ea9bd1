using System.Text.Json;

namespace Qnn.Devices.Fleet;

/// <summary>A device as the host sees it: its last status (the JSON of <see cref="DeviceStatus"/>), whether it is online, when it was last heard.</summary>
public sealed record DeviceReport(string Device, bool Online, string State, string Model, string Slot, string Canary, string CanaryId,
    int UsPerSample, long FreeBytes, string LastError, string Transfer, int Received, int Chunks, string Time, DateTime LastSeen)
{
    /// <summary>Reads a status payload; null when it is not one (a device's status is not trusted to be well formed).</summary>
    public static DeviceReport? Parse(string device, byte[] json, bool online, DateTime seen)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var r = doc.RootElement;
            string S(string name) => r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";
            long N(string name) => r.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long x) ? x : 0;
            return new DeviceReport(device, online, S("state"), S("model"), S("slot"), S("canary"), S("canaryId"), (int)N("usPerSample"),
                N("freeBytes"), S("lastError"), S("transfer"), (int)N("received"), (int)N("chunks"), S("time"), seen);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Whether this device runs <paramref name="m"/> and its canary digest is the host's.</summary>
    public bool Agrees(FleetManifest m) => Model == m.ModelId && Canary == m.DigestPortable && State == "running";

    /// <summary>Whether the device refused <paramref name="m"/> (its last error names the model).</summary>
    public bool Refused(FleetManifest m) => State == "refused" && LastError.Contains(m.ModelId, StringComparison.Ordinal);
}
