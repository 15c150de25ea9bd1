using System.Diagnostics;
using Qnn.Devices.Fleet;
using Qnn.Format;
using Xunit.Abstractions;

namespace Qnn.Cli.Tests;

/// <summary>
/// The figures of devices/FLEET.md, "Measured": time to update 50 and 200 in-process devices on loopback with a
/// 37 KB and a 379 KB model, the broker's CPU time and peak memory. Long, so it runs only with
/// QNN_FLEET_MEASURE=1 (e.g. <c>QNN_FLEET_MEASURE=1 dotnet test tests/Qnn.Cli.Tests -c Release --filter FleetScaleTests</c>)
/// and prints a table; otherwise it returns at once.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class FleetScaleTests(ITestOutputHelper output) : TempFolderTest
{
    [Fact]
    public async Task Update_time_for_50_and_200_devices_with_a_37_KB_and_a_379_KB_model()
    {
        if (Environment.GetEnvironmentVariable("QNN_FLEET_MEASURE") != "1" || Mosquitto.Unavailable is not null)
        {
            output.WriteLine("not measured: set QNN_FLEET_MEASURE=1 (and have mosquitto)");
            return;
        }
        int[] counts = (Environment.GetEnvironmentVariable("QNN_FLEET_DEVICES") ?? "50,200").Split(',').Select(int.Parse).ToArray();
        var models = new[] { ("37 KB", Mlps.Micro(11)), ("379 KB", Mlps.Create(12, 1376, 1376)) };
        var (privateKey, publicKey) = FleetKeys.Generate();
        File.WriteAllText(Temp.File("fleet.key.pub"), publicKey);
        using var signer = System.Security.Cryptography.ECDsa.Create();
        signer.ImportFromPem(privateKey);
        output.WriteLine("| devices | model | package | chunks | publish | all devices on the model | broker CPU | broker peak RSS |");
        output.WriteLine("|---:|---|---:|---:|---:|---:|---:|---:|");
        foreach (int n in counts)
        {
            using var broker = new Mosquitto();
            var devices = new List<FleetDevice>();
            try
            {
                for (int i = 0; i < n; i++)
                {
                    var d = new FleetDevice(FleetBroker.Parse(broker.Url), "scale", $"d{i:000}", Temp.File($"s{n}-{i}"), EcdsaSignatureVerifier.Load(Temp.File("fleet.key.pub")));
                    devices.Add(d);
                    await d.StartAsync(CancellationToken.None);
                }
                await using var host = await FleetHost.ConnectAsync(FleetBroker.Parse(broker.Url), "scale", CancellationToken.None);
                while (host.Devices.Count < n) await Task.Delay(50);
                foreach (var (name, model) in models)
                {
                    byte[] bytes = ModelWriter.Write(model);
                    QnnModel m = ModelFile.Parse(bytes, name);
                    var package = FleetPackage.Build(bytes, m, 16, FleetPackage.DefaultChunkBytes, DateTime.UtcNow);
                    string digest = FastCanaryRunner.Digest(m, package.Canary.Span, 16).Digest;
                    (package.Manifest.DigestPortable, package.Manifest.DigestFast, package.Manifest.DigestGpu) = (digest, digest, digest);
                    package.Sign(signer);
                    double cpuBefore = BrokerCpuSeconds(broker.ProcessId);
                    var clock = Stopwatch.StartNew();
                    await host.PushAsync(package, CancellationToken.None);
                    double published = clock.Elapsed.TotalSeconds;
                    bool done = await host.WaitForAsync(package.Manifest, TimeSpan.FromMinutes(10), null, CancellationToken.None);
                    double all = clock.Elapsed.TotalSeconds;
                    int agree = host.Devices.Count(d => d.Agrees(package.Manifest));
                    Assert.True(done && agree == n, $"{agree} of {n} agree");
                    output.WriteLine($"| {n} | {name} ({bytes.Length:N0} B) | {package.Bytes.Length:N0} B | {package.Manifest.Chunks} | {published:0.00} s | {all:0.00} s | " +
                                     $"{BrokerCpuSeconds(broker.ProcessId) - cpuBefore:0.00} s | {BrokerPeakMiB(broker.ProcessId):0.0} MiB |");
                }
            }
            finally
            {
                foreach (var d in devices) await d.DisposeAsync();
            }
        }
    }

    private static double BrokerCpuSeconds(int pid)
    {
        string[] stat = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (long.Parse(stat[11]) + long.Parse(stat[12])) / 100.0;   // utime, stime in clock ticks (100 per second)
    }

    private static double BrokerPeakMiB(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmHWM:")).Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0).Single();
}
