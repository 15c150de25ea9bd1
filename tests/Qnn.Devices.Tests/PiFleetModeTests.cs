using System.CommandLine;
using System.Security.Cryptography;
using Qnn.Devices.Fleet;
using Qnn.Format;
using Qnn.TestSupport;
using Xunit.Abstractions;

namespace Qnn.Devices.Tests;

/// <summary>
/// The Raspberry Pi app's fleet mode, in-process: `qnn-classifier --fleet mqtt://… --group … --fleet-key …` against
/// a real Mosquitto on loopback follows a push into its A/B store and stops on Ctrl-C (cancellation) with exit 0;
/// its option errors are one line. The fleet's own tests are tests/Qnn.Cli.Tests/FleetTests.cs.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class PiFleetModeTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Fleet_mode_options_missing_or_wrong_are_one_line_errors()
    {
        ConsoleCapture.Result Run(params string[] args) =>
            ConsoleCapture.Run(() => global::Qnn.Devices.RaspberryPi.Program.BuildCommand().Parse(args).InvokeAsync().GetAwaiter().GetResult());
        var noKey = Run("--fleet", "mqtt://127.0.0.1:1", "--group", "lab");
        Assert.Equal((1, "--fleet-key: fleet mode needs the fleet's public key (qnn fleet keygen)"), (noKey.ExitCode, noKey.Error.Trim()));
        var badUrl = Run("--fleet", "tcp://x", "--group", "lab");
        Assert.Equal(1, badUrl.ExitCode);
        Assert.StartsWith("--fleet tcp://x: expected mqtt://HOST:PORT", badUrl.Error);
        var noModel = Run("--image", "x.raw");
        Assert.Equal((1, "--model: give the .qnn model file (or --fleet URL to follow a fleet)"), (noModel.ExitCode, noModel.Error.Trim()));
    }

    [Fact]
    public async Task Fleet_mode_follows_a_push_into_its_store_and_stops_on_cancellation()
    {
        if (Mosquitto.Unavailable is { } why)
        {
            if (Environment.GetEnvironmentVariable("CI") is "true" or "1") Assert.Fail($"CI needs the fleet tests: {why}");
            output.WriteLine($"SKIPPED (no broker): {why}");
            return;
        }
        using var broker = new Mosquitto();
        var (privatePem, publicPem) = FleetKeys.Generate();
        File.WriteAllText(_temp.File("fleet.key.pub"), publicPem);
        string store = _temp.File("store");
        using var stop = new CancellationTokenSource();
        var app = global::Qnn.Devices.RaspberryPi.Program.BuildCommand()
            .Parse(["--fleet", broker.Url, "--group", "lab", "--device-id", "pi-app", "--fleet-key", _temp.File("fleet.key.pub"), "--store", store])
            .InvokeAsync(null, stop.Token);

        await using var host = await FleetHost.ConnectAsync(FleetBroker.Parse(broker.Url), "lab", CancellationToken.None);
        for (int i = 0; i < 400 && host.Devices.Count == 0; i++) await Task.Delay(25);
        Assert.Single(host.Devices);

        QnnModel m = Mlps.Micro(6);
        byte[] bytes = ModelWriter.Write(m);
        var package = FleetPackage.Build(bytes, ModelFile.Parse(bytes, "micro"), 8, 4096, DateTime.UtcNow);
        string digest = Qnn.Devices.Fleet.FastCanaryRunner.Digest(m, package.Canary.Span, 8).Digest;
        (package.Manifest.DigestPortable, package.Manifest.DigestFast, package.Manifest.DigestGpu) = (digest, digest, digest);
        using (var key = ECDsa.Create())
        {
            key.ImportFromPem(privatePem);
            package.Sign(key);
        }
        await host.PushAsync(package, CancellationToken.None);
        Assert.True(await host.WaitForAsync(package.Manifest, TimeSpan.FromSeconds(20), null, CancellationToken.None));
        Assert.True(host.Devices.Single().Agrees(package.Manifest));
        Assert.Equal(package.Bytes, File.ReadAllBytes(Path.Combine(store, "slot-A.pkg")));

        await stop.CancelAsync();
        Assert.Equal(0, await app);
        await host.SettleAsync(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), CancellationToken.None);
        Assert.False(host.Devices.Single().Online);   // it said goodbye: online = 0
    }
}
