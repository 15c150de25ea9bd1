using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Qnn.Devices.Fleet;
using Qnn.Format;
using Xunit.Abstractions;

namespace Qnn.Cli.Tests;

/// <summary>
/// `qnn fleet` end to end against a real Mosquitto on loopback (Qnn.TestSupport.Mosquitto, installed with apt-get
/// when missing and possible) and in-process Pi fleet-mode devices (FleetDevice: MQTTnet over real sockets, file
/// A/B stores): a push to a group with an offline device that catches up, status, rollback; tampered, truncated,
/// unsigned, wrongly signed and self-test-failing models refused with the old model kept; a transfer cut by a
/// device crash that resumes with only the missing chunks, across broker restarts.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class FleetTests(ITestOutputHelper output) : TempFolderTest
{
    private const int Devices = 50;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private bool Skipped()
    {
        if (Mosquitto.Unavailable is not { } why) return false;
        if (Environment.GetEnvironmentVariable("CI") is "true" or "1") Assert.Fail($"CI needs the fleet tests: {why}");
        output.WriteLine($"SKIPPED (no broker): {why}");
        return true;
    }

    private string Model(int seed, string name)
    {
        string path = Temp.File(name);
        ModelWriter.WriteFile(Mlps.Micro(seed), path);
        return path;
    }

    private (string Private, string Public) Keys()
    {
        string key = Temp.File("fleet.key");
        var run = QnnCommand.Run("fleet", "keygen", "--out", key);
        Assert.True(run.ExitCode == 0, run.Error);
        return (key, key + ".pub");
    }

    private FleetDevice Device(Mosquitto broker, string group, string id, string publicKey, int window = 4) =>
        new(FleetBroker.Parse(broker.Url), group, id, Temp.File($"store-{group}-{id}"), EcdsaSignatureVerifier.Load(publicKey), window);

    private static async Task Until(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > Patience) Assert.Fail($"not within {Patience.TotalSeconds} s: {what}");
            await Task.Delay(20);
        }
    }

    private static JsonElement Status(Mosquitto broker, string group, out int exitCode)
    {
        var run = QnnCommand.Run("fleet", "status", "--broker", broker.Url, "--group", group, "--json");
        exitCode = run.ExitCode;
        Assert.True(run.Error.Length == 0, run.Error);
        return JsonDocument.Parse(run.Out).RootElement.Clone();
    }

    private static string ModelId(string path) => $"{ModelFile.Load(path).ModelId:x16}";

    [Fact]
    public async Task Push_reaches_every_device_an_offline_one_catches_up_status_agrees_and_rollback_swaps_back()
    {
        if (Skipped()) return;
        using var broker = new Mosquitto();
        var (key, pub) = Keys();
        string one = Model(1, "one.qnn"), two = Model(2, "two.qnn");
        var devices = new List<FleetDevice>();
        try
        {
            for (int i = 0; i < Devices; i++) devices.Add(Device(broker, "lab", $"pi-{i:00}", pub));
            foreach (var d in devices) await d.StartAsync(CancellationToken.None);
            await using (var watch = await FleetHost.ConnectAsync(FleetBroker.Parse(broker.Url), "lab", CancellationToken.None))
                await Until(() => watch.Devices.Count == Devices, "every device's first status");
            await devices[^1].CrashAsync();   // powered off before the push: its last will marks it offline

            var clock = Stopwatch.StartNew();
            var push = QnnCommand.Run("fleet", "push", one, "--broker", broker.Url, "--group", "lab", "--key", key, "--canary", "8", "--timeout", "30", "--accelerator", "cpu", "--json");
            output.WriteLine($"push to {Devices - 1} online devices: {clock.ElapsedMilliseconds} ms\n{push.Out}\n{push.Error}");
            Assert.True(push.ExitCode == 0, push.Out + push.Error + broker.Log());
            using (var result = JsonDocument.Parse(push.Out))
            {
                Assert.Equal(Devices - 1, result.RootElement.GetProperty("agree").GetInt32());
                Assert.Equal(1, result.RootElement.GetProperty("offline").GetInt32());
            }

            var status = Status(broker, "lab", out int code);
            Assert.Equal(1, code);   // the offline device does not run the model yet
            Assert.Equal(Devices - 1, status.GetProperty("agree").GetInt32());

            // `fleet status --watch` follows the group live while the device comes back, and stops once all agree (its
            // first line may already show the device back: the command's start and connection take about as long).
            var watchClock = Stopwatch.StartNew();
            var watching = Task.Run(() => QnnCommand.Run("fleet", "status", "--broker", broker.Url, "--group", "lab", "--watch", "0.2", "--until-agree", "--timeout", "60"));
            devices[^1] = Device(broker, "lab", $"pi-{Devices - 1:00}", pub);   // powered on again: same store, same session
            await devices[^1].StartAsync(CancellationToken.None);
            await Until(() => devices[^1].Agent.ActiveModel == ModelId(one), "the offline device catches up");
            var watched = await watching;
            Assert.True(watched.ExitCode == 0, watched.Out + watched.Error);
            Assert.True(watchClock.Elapsed < TimeSpan.FromSeconds(50), "--until-agree stopped the watch, not its 60 s --timeout");
            Assert.Contains($"{Devices} of {Devices} devices run the announced model with the host's canary digest", watched.Out);

            status = Status(broker, "lab", out code);
            Assert.True(code == 0, status.ToString());
            Assert.Equal(Devices, status.GetProperty("agree").GetInt32());
            foreach (var row in status.GetProperty("rows").EnumerateArray())
            {
                Assert.Equal(ModelId(one), row.GetProperty("model").GetString());
                Assert.True(row.GetProperty("equalsPortable").GetBoolean() && row.GetProperty("equalsFast").GetBoolean() && row.GetProperty("equalsGpu").GetBoolean());
                Assert.Equal("A", row.GetProperty("slot").GetString());
            }

            var human = QnnCommand.Run("fleet", "push", two, "--broker", broker.Url, "--group", "lab", "--key", key, "--canary", "8", "--timeout", "30", "--accelerator", "cpu");
            Assert.True(human.ExitCode == 0, human.Out + human.Error);
            Assert.Contains($"{Devices} of {Devices} devices run {ModelId(two)}", human.Out);
            Assert.Contains("canary digest = host's", human.Error);   // one progress line per device
            Assert.All(devices, d => Assert.Equal("B", d.Agent.ActiveSlot));

            int[] before = devices.Select(d => d.Agent.ChunksAccepted).ToArray();
            var rollback = QnnCommand.Run("fleet", "rollback", "--broker", broker.Url, "--group", "lab", "--timeout", "30");
            Assert.True(rollback.ExitCode == 0, rollback.Out + rollback.Error);
            Assert.All(devices, d => Assert.Equal((ModelId(one), "A"), (d.Agent.ActiveModel, d.Agent.ActiveSlot)));
            Assert.Equal(before, devices.Select(d => d.Agent.ChunksAccepted).ToArray());   // the other slot held it: no transfer
            Assert.Equal(0, Status(broker, "lab", out _).GetProperty("devices").GetInt32() - Devices);
        }
        finally
        {
            foreach (var d in devices) await d.DisposeAsync();
        }
    }

    /// <summary>A package of <paramref name="path"/> with the host's digest (the fast interpreter's, which equals the portable one).</summary>
    private static FleetPackage Package(string path, int chunk = 4096)
    {
        QnnModel m = ModelFile.Load(path, out byte[] bytes);
        var package = FleetPackage.Build(bytes, m, 8, chunk, DateTime.UtcNow.AddTicks(Random.Shared.Next()));
        string digest = FastCanaryRunner.Digest(m, package.Canary.Span, 8).Digest;
        (package.Manifest.DigestPortable, package.Manifest.DigestFast, package.Manifest.DigestGpu) = (digest, digest, digest);
        return package;
    }

    [Fact]
    public async Task Unsigned_wrongly_signed_truncated_corrupted_altered_and_failing_models_are_refused_and_the_old_one_runs()
    {
        if (Skipped()) return;
        using var broker = new Mosquitto();
        var (key, pub) = Keys();
        string one = Model(1, "one.qnn"), two = Model(2, "two.qnn");
        await using var a = Device(broker, "tamper", "a", pub);
        await using var b = Device(broker, "tamper", "b", pub);
        await a.StartAsync(CancellationToken.None);
        await b.StartAsync(CancellationToken.None);
        var push = QnnCommand.Run("fleet", "push", one, "--broker", broker.Url, "--group", "tamper", "--key", key, "--canary", "8", "--accelerator", "cpu", "--timeout", "30");
        Assert.True(push.ExitCode == 0, push.Out + push.Error);

        using var signer = FleetKeys.LoadPrivate(key);
        using var stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await using var host = await FleetHost.ConnectAsync(FleetBroker.Parse(broker.Url), "tamper", CancellationToken.None);

        async Task Refused(FleetPackage package, Func<int, byte[], byte[]> damage, string expected)
        {
            for (int i = 0; i < package.Manifest.Chunks; i++)
                await host.PublishChunkAsync(package.Manifest, i, damage(i, package.ChunkPayload(i)), CancellationToken.None);
            await host.AnnounceAsync(package.Manifest, CancellationToken.None);
            foreach (var d in new[] { a, b })
            {
                await Until(() => d.Agent.LastError.Contains(expected, StringComparison.Ordinal), $"{expected}: last error is \"{d.Agent.LastError}\"");
                Assert.Equal((ModelId(one), "A"), (d.Agent.ActiveModel, d.Agent.ActiveSlot));
            }
            output.WriteLine(a.Agent.LastError);
        }
        static byte[] Same(int i, byte[] payload) => payload;

        var unsigned = Package(two);
        await Refused(unsigned, Same, "unsigned, refused");

        var wrongKey = Package(two);
        wrongKey.Sign(stranger);
        await Refused(wrongKey, Same, "does not verify with this device's fleet key");

        var lying = Package(two);
        lying.Sign(signer);
        lying.Manifest.Size -= 100;   // altered after signing (a truncated model announced as such)
        await Refused(lying, Same, "does not verify");

        var truncated = Package(two);
        truncated.Sign(signer);
        await Refused(truncated, (i, p) => i == 3 ? p[..^100] : p, "(truncated)");

        var corrupted = Package(two);
        corrupted.Sign(signer);
        await Refused(corrupted, (i, p) => { if (i == 2) p[50] ^= 1; return p; }, "(corrupted)");

        var altered = Package(two);
        altered.Sign(signer);
        await Refused(altered, (i, p) =>
        {
            if (i != 1) return p;
            p[60] ^= 0x10;
            BitConverter.TryWriteBytes(p.AsSpan(0, 4), Crc32.Compute(p, 4, p.Length - 4));   // a consistent chunk CRC: only the whole package's signed CRC-32 and SHA-256 catch it
            return p;
        }, "(altered)");

        var failing = Package(two);
        failing.Manifest.DigestPortable = "0123456789abcdef";   // signed, whole, but its integers are not the host's
        failing.Sign(signer);
        await Refused(failing, Same, "failed its self-test in slot B");

        var status = Status(broker, "tamper", out int code);
        Assert.Equal(1, code);   // the announced (failing) model runs nowhere
        Assert.Equal("refused", status.GetProperty("rows")[0].GetProperty("state").GetString());

        var good = Package(two);
        good.Sign(signer);
        await host.PushAsync(good, CancellationToken.None);
        await Until(() => a.Agent.ActiveModel == ModelId(two) && b.Agent.ActiveModel == ModelId(two), "the good model after the refusals");
        Assert.Equal("", a.Agent.LastError);
    }

    [Fact]
    public async Task A_transfer_cut_by_a_device_crash_and_broker_restarts_resumes_with_the_missing_chunks_only()
    {
        if (Skipped()) return;
        using var broker = new Mosquitto();
        var (key, pub) = Keys();
        using var signer = FleetKeys.LoadPrivate(key);
        var package = Package(Model(3, "three.qnn"), chunk: 256);
        package.Sign(signer);
        int chunks = package.Manifest.Chunks;
        Assert.True(chunks > 120, $"{chunks} chunks");

        var host = await FleetHost.ConnectAsync(FleetBroker.Parse(broker.Url), "cut", CancellationToken.None);
        await host.PublishChunksAsync(package, 0, 40, CancellationToken.None);   // the host is cut after 40 chunks
        await host.AnnounceAsync(package.Manifest, CancellationToken.None);

        var first = Device(broker, "cut", "esp", pub, window: 2);
        await first.StartAsync(CancellationToken.None);
        await Until(() => first.Agent.ChunksAccepted == 40, "the first 40 chunks");
        await first.CrashAsync();   // power lost mid-transfer

        await host.PublishChunksAsync(package, 40, 80, CancellationToken.None);
        await host.DisposeAsync();
        broker.Stop();   // the broker restarts; its retained chunks and the device's session survive
        broker.Start();

        await using var second = Device(broker, "cut", "esp", pub, window: 2);
        await second.StartAsync(CancellationToken.None);
        await Until(() => second.Agent.ChunksAccepted == 40, "chunks 40..79 after the restart");
        await Task.Delay(300);
        Assert.Equal(40, second.Agent.ChunksAccepted);   // not the 40 it had, and nothing past what the broker holds
        Assert.Equal("", second.Agent.ActiveModel);

        broker.Stop();   // again, with the device connected: it reconnects by itself
        broker.Start();
        await using var again = await FleetHost.ConnectAsync(FleetBroker.Parse(broker.Url), "cut", CancellationToken.None);
        await again.PublishChunksAsync(package, 80, chunks, CancellationToken.None);
        await Until(() => second.Agent.ActiveModel == package.Manifest.ModelId, $"the model after the rest (last error \"{second.Agent.LastError}\")");
        Assert.Equal(chunks - 40, second.Agent.ChunksAccepted);
        Assert.Equal("A", second.Agent.ActiveSlot);
    }
}

/// <summary>
/// The example broker config (devices/fleet-broker/mosquitto.conf and acl) run as it is, with only its paths and port
/// replaced: TLS with a CA made here, a password per device, the ACL; a push and a status over mqtts.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class FleetTlsTests(ITestOutputHelper output) : TempFolderTest
{
    private static void Pem(string path, string label, byte[] der) => File.WriteAllText(path, PemEncoding.WriteString(label, der));

    /// <summary>A CA and a broker certificate for 127.0.0.1 signed by it, as PEM files in <paramref name="folder"/>.</summary>
    private static void Certificates(string folder)
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=qnn fleet test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509KeyUsageExtension(
            System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.KeyCertSign | System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        using var brokerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=127.0.0.1", brokerKey, HashAlgorithmName.SHA256);
        var names = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new System.Security.Cryptography.X509Certificates.X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var broker = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), [1, 2, 3, 4]);
        Pem(Path.Combine(folder, "ca.crt"), "CERTIFICATE", ca.RawData);
        Pem(Path.Combine(folder, "broker.crt"), "CERTIFICATE", broker.RawData);
        Pem(Path.Combine(folder, "broker.key"), "PRIVATE KEY", brokerKey.ExportPkcs8PrivateKey());
    }

    private static void Passwords(string file, params (string User, string Password)[] users)
    {
        string tool = Path.Combine(Path.GetDirectoryName(Mosquitto.BinaryPath!)!, "mosquitto_passwd");
        if (!File.Exists(tool)) tool = "/usr/bin/mosquitto_passwd";
        File.WriteAllText(file, "");
        foreach (var (user, password) in users)
        {
            using var p = Process.Start(new ProcessStartInfo(tool, ["-b", file, user, password]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
        }
    }

    [Fact]
    public async Task The_example_broker_config_serves_a_push_over_TLS_with_a_password_per_device_and_refuses_a_wrong_one()
    {
        if (Mosquitto.Unavailable is { } why)
        {
            if (Environment.GetEnvironmentVariable("CI") is "true" or "1") Assert.Fail($"CI needs the fleet tests: {why}");
            output.WriteLine($"SKIPPED (no broker): {why}");
            return;
        }
        string example = File.ReadAllText(Path.Combine(Repository.Root, "devices", "fleet-broker", "mosquitto.conf"));
        using var broker = new Mosquitto((port, folder) =>
        {
            Certificates(folder);
            File.Copy(Path.Combine(Repository.Root, "devices", "fleet-broker", "acl"), Path.Combine(folder, "acl"));
            Passwords(Path.Combine(folder, "passwd"), ("qnn-host", "host-secret"), ("tls-0", "secret-0"), ("tls-1", "secret-1"));
            Directory.CreateDirectory(Path.Combine(folder, "data"));
            return example.Replace("/etc/mosquitto/qnn/", folder + "/").Replace("/var/lib/mosquitto/", folder + "/data/")
                       .Replace("listener 8883", $"listener {port} 127.0.0.1") + $"\nuser {Environment.UserName}\nlog_dest file {folder}/mosquitto.log\n";
        });
        string ca = Path.Combine(broker.Folder, "ca.crt");
        string url = $"mqtts://127.0.0.1:{broker.Port}";
        string key = Temp.File("fleet.key");
        Assert.Equal(0, QnnCommand.Run("fleet", "keygen", "--out", key).ExitCode);
        string model = Temp.File("one.qnn");
        ModelWriter.WriteFile(Mlps.Micro(1), model);

        FleetDevice Device(string id, string password) =>
            new(FleetBroker.Parse(url) with { User = id, Password = password, CaFile = ca }, "secure", id, Temp.File(id), EcdsaSignatureVerifier.Load(key + ".pub"));
        await using var d0 = Device("tls-0", "secret-0");
        await using var d1 = Device("tls-1", "secret-1");
        await d0.StartAsync(CancellationToken.None);
        await d1.StartAsync(CancellationToken.None);
        await using (var intruder = Device("tls-1", "wrong"))
            Assert.Contains("NotAuthorized", (await Assert.ThrowsAsync<IOException>(() => intruder.StartAsync(CancellationToken.None))).Message);

        Environment.SetEnvironmentVariable("QNN_MQTT_PASSWORD", "host-secret");
        try
        {
            var untrusted = QnnCommand.Run("fleet", "status", "--broker", url, "--group", "secure", "--user", "qnn-host");
            Assert.Equal(1, untrusted.ExitCode);   // the broker's certificate is not signed by a CA the system trusts
            Assert.StartsWith($"qnn fleet status: --broker {url}: cannot connect", untrusted.Error);
            Assert.Single(untrusted.Error.Trim().Split('\n'));

            var noPassword = QnnCommand.Run("fleet", "status", "--broker", url, "--group", "secure", "--ca", ca);
            Assert.Equal(1, noPassword.ExitCode);
            Assert.Contains("cannot connect (refused: ", noPassword.Error);

            var push = QnnCommand.Run("fleet", "push", model, "--broker", url, "--group", "secure", "--user", "qnn-host", "--ca", ca, "--key", key,
                "--canary", "4", "--accelerator", "cpu", "--timeout", "30");
            Assert.True(push.ExitCode == 0, push.Out + push.Error + broker.Log());
            Assert.Contains("2 of 2 devices run", push.Out);
            var status = QnnCommand.Run("fleet", "status", "--broker", url, "--group", "secure", "--user", "qnn-host", "--ca", ca);
            Assert.True(status.ExitCode == 0, status.Out + status.Error);
            output.WriteLine(status.Out);
        }
        finally
        {
            Environment.SetEnvironmentVariable("QNN_MQTT_PASSWORD", null);
        }
    }
}
