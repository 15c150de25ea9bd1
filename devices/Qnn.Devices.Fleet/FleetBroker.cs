using System.Security.Cryptography.X509Certificates;
using MQTTnet;
using MQTTnet.Formatter;

namespace Qnn.Devices.Fleet;

/// <summary>
/// Where the broker is and how to log in, shared by the host verbs and the device: <c>mqtt://HOST:PORT</c> (plain,
/// for loopback and tests) or <c>mqtts://HOST:PORT</c> (TLS, checked against the system's roots or <see cref="CaFile"/>),
/// a user name and password (the broker's per-device credentials; devices/FLEET.md, "Security").
/// </summary>
public sealed record FleetBroker(bool Tls, string Host, int Port, string? User = null, string? Password = null, string? CaFile = null)
{
    /// <summary>Reads a broker URL; throws <see cref="ArgumentException"/> with a one-line message naming <paramref name="option"/>.</summary>
    public static FleetBroker Parse(string url, string option = "--broker")
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || (uri.Scheme != "mqtt" && uri.Scheme != "mqtts") || uri.Host.Length == 0)
            throw new ArgumentException($"{option} {url}: expected mqtt://HOST:PORT or mqtts://HOST:PORT");
        if (uri.AbsolutePath is not ("" or "/") || uri.Query.Length > 0)
            throw new ArgumentException($"{option} {url}: a broker URL has no path or query");
        bool tls = uri.Scheme == "mqtts";
        return new FleetBroker(tls, uri.Host, uri.IsDefaultPort || uri.Port < 0 ? (tls ? 8883 : 1883) : uri.Port);
    }

    public override string ToString() => $"{(Tls ? "mqtts" : "mqtt")}://{Host}:{Port}";

    /// <summary>MQTT 5 client options; with <paramref name="persistent"/> the broker keeps the session (subscriptions, queued QoS 1 messages) for a week.</summary>
    public MqttClientOptionsBuilder Options(string clientId, bool persistent)
    {
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(Host, Port)
            .WithClientId(clientId)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanStart(!persistent)
            .WithSessionExpiryInterval(persistent ? 7 * 24 * 3600u : 0u)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(15))
            .WithTimeout(TimeSpan.FromSeconds(10));
        if (User is not null) builder = builder.WithCredentials(User, Password ?? "");
        if (Tls)
            builder = builder.WithTlsOptions(tls =>
            {
                tls.UseTls();
                if (CaFile is not null)
                {
                    var roots = new X509Certificate2Collection();
                    roots.ImportFromPemFile(CaFile);
                    tls.WithTrustChain(roots);
                }
            });
        return builder;
    }
}
