using System.CommandLine;
using System.Diagnostics;
using Qnn.Datasets;
using Qnn.Devices.Fleet;
using Qnn.Format;
using Qnn.Verification;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn fleet push MODEL --group G --key fleet.key`: runs the canary inputs on the host's portable, fast and GPU
/// runtimes (Qnn.Verification's digests), signs the manifest, publishes the chunks and the announcement (retained),
/// then shows each device's progress until every online device runs the model with the host's digest or refused it.
/// Exit 1 when a device refused it, disagrees or did not answer in time.
/// </summary>
public static class FleetPushCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The .qnn model file." };
        var broker = new FleetCommand.BrokerOptions();
        var key = new Option<string>("--key") { Description = "The private key from qnn fleet keygen.", Required = true };
        var canary = new Option<int>("--canary") { Description = $"Canary inputs sent with the model, whose integer outputs every device reports as a digest: {FleetCommand.Canary.Text}.", DefaultValueFactory = _ => 16 };
        var chunk = new Option<int>("--chunk-size") { Description = $"Bytes per chunk, a power of two: {FleetCommand.ChunkSize.Text}.", DefaultValueFactory = _ => FleetPackage.DefaultChunkBytes };
        var timeout = new Option<int>("--timeout") { Description = $"Seconds to wait for the online devices: {FleetCommand.Timeout.Text}.", DefaultValueFactory = _ => 120 };
        var accelerator = new Option<string>("--accelerator") { Description = "The GPU runtime's accelerator for the host's digest: cuda, opencl, cpu or auto.", DefaultValueFactory = _ => "auto" };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("push", "Sign a model and push it to a group of devices through the broker; wait for their canary digests.");
        command.Arguments.Add(model);
        broker.AddTo(command);
        foreach (Option o in new Option[] { key, canary, chunk, timeout, accelerator, json }) command.Options.Add(o);
        command.SetAction(parse => Cli.Run("fleet push", () =>
        {
            string path = parse.GetValue(model)!;
            int canaryCount = Cli.Check(FleetCommand.Canary, parse.GetValue(canary));
            int chunkSize = Cli.Check(FleetCommand.ChunkSize, parse.GetValue(chunk));
            if ((chunkSize & (chunkSize - 1)) != 0) throw new UserError($"--chunk-size {chunkSize}: not a power of two");
            int seconds = Cli.Check(FleetCommand.Timeout, parse.GetValue(timeout));
            FleetBroker where = broker.Read(parse);
            using var signer = FleetKeys.LoadPrivate(parse.GetValue(key)!);
            QnnModel m = ModelFile.Load(path, out byte[] bytes);
            var package = FleetPackage.Build(bytes, m, canaryCount, chunkSize, DateTime.UtcNow);
            HostDigests(package, path, parse.GetValue(accelerator)!);
            package.Sign(signer);
            FleetManifest manifest = package.Manifest;
            bool asJson = parse.GetValue(json);
            return FleetCommand.Wait(async cancel =>
            {
                await using var host = await FleetHost.ConnectAsync(where, broker.GroupOf(parse), cancel);
                var clock = Stopwatch.StartNew();
                long sent = await host.PushAsync(package, cancel);
                Console.Error.WriteLine($"qnn fleet push: model {manifest.ModelId} ({manifest.Size} bytes with {canaryCount} canary inputs, {manifest.Chunks} chunks of {chunkSize}) " +
                                        $"published to {where} group {broker.GroupOf(parse)} in {clock.ElapsedMilliseconds} ms; waiting for the devices");
                bool settled = await host.WaitForAsync(manifest, TimeSpan.FromSeconds(seconds), asJson ? null : FleetCommand.Progress(manifest), cancel);
                var devices = host.Devices;
                int agree = devices.Count(d => d.Agrees(manifest));
                int offline = devices.Count(d => !d.Online && !d.Agrees(manifest));
                int failed = devices.Count - agree - offline;
                var result = new PushResult(manifest.ModelId, manifest.Size, manifest.Chunks, chunkSize, sent, manifest.CanaryId, manifest.DigestPortable,
                    Math.Round(clock.Elapsed.TotalSeconds, 3), devices.Count, agree, offline, failed, settled);
                if (asJson) Cli.PrintJson(result);
                else Console.Out.WriteLine($"{agree} of {devices.Count} devices run {manifest.ModelId} with the host's canary digest {manifest.DigestPortable}" +
                                           (offline > 0 ? $"; {offline} offline (they update when they reconnect)" : "") +
                                           (failed > 0 ? $"; {failed} refused it, disagree or did not answer" : "") + $" ({result.Seconds:0.###} s)");
                return failed == 0 && settled ? 0 : 1;
            });
        }));
        return command;
    }

    public sealed record PushResult(string ModelId, int Bytes, int Chunks, int ChunkSize, long BytesPublished, string CanaryId, string Digest,
        double Seconds, int Devices, int Agree, int Offline, int Failed, bool Settled);

    /// <summary>The canary digests on the portable, fast and GPU runtimes (Qnn.Verification); they must agree before anything is pushed.</summary>
    private static void HostDigests(FleetPackage package, string path, string accelerator)
    {
        QnnModel m = package.Model;
        FleetManifest manifest = package.Manifest;
        var canary = new Dataset
        {
            Name = manifest.CanaryId, Height = m.InputHeight, Width = m.InputWidth, Channels = m.InputChannels,
            Pixels = package.Canary.ToArray(), Labels = new byte[manifest.CanaryCount], ClassCount = m.ClassCount,
        };
        using var runtimes = VerifyCommand.Open(m, ["portable", "fast", "gpu"], accelerator, "auto");
        VerifyReport report = Verifier.Verify(m, path, canary, runtimes.Runtimes, layers: false, progress: null);
        if (!report.Match) throw new UserError($"{path}: the host's runtimes disagree on the canary inputs; not pushed (qnn verify {path})");
        manifest.DigestPortable = report.Runtimes[0].Digest;
        manifest.DigestFast = report.Runtimes[1].Digest;
        manifest.DigestGpu = report.Runtimes[2].Digest;
    }
}
