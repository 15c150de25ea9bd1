using System.Diagnostics;
using Qnn.TestSupport;

namespace Qnn.Runtime.Gpu.Tests;

/// <summary>
/// The GPU half's device kit, proven without a GPU: the kit builds under its size limit, and the device check runs
/// from it in a namespace with no network, no .NET SDK and no caches (runtime-gpu/bench/prove-offline.sh), here in
/// its reduced form (manifest, unpack, ILGPU's view of the devices, a tiny model verified on a few test images on
/// the portable, fast and GPU runtimes, the GPU kernels on ILGPU's CPU accelerator).
/// </summary>
public sealed class DeviceKitTests : TempFolderTest
{
    [Fact]
    public void The_device_check_runs_from_the_kit_offline()
    {
        string root = Repository.Root;
        string kit = Path.Combine(Temp.Path, "kit"), output = Path.Combine(Temp.Path, "out");
        var (code, log) = Bash(root, $"runtime-gpu/bench/prove-offline.sh --build --quick --out '{output}'",
            ("KIT", kit), ("QNN_KIT_XZ", "-0"));

        Assert.True(code == 0, $"prove-offline exited {code}:\n{log}");
        Assert.Contains("every file matches MANIFEST.sha256", log);
        Assert.Contains("network interfaces: lo (a new namespace)", log);
        Assert.Contains("NO GPU: ILGPU opens no CUDA device here", log);
        Assert.Matches(@"verify: identical: 20 of 20 samples agree on every runtime", log);
        Assert.Matches(@"make-device-kit: .* is \d+\.\d MiB \(limit 60 MiB\)", log);
        Assert.True(File.Exists(Path.Combine(output, "summary.txt")), "no summary.txt in the output folder");
    }

    [Fact]
    public void A_kit_with_a_changed_file_is_refused_before_anything_runs()
    {
        string root = Repository.Root;
        string kit = Path.Combine(Temp.Path, "kit");
        Directory.CreateDirectory(Path.Combine(kit, "mnist"));
        File.WriteAllText(Path.Combine(kit, "kit.txt"), "qnn device kit\n");
        File.WriteAllText(Path.Combine(kit, "MANIFEST.sha256"), new string('0', 64) + "  kit.txt\n");

        var (code, log) = Bash(root, $"runtime-gpu/bench/device-check.sh --kit '{kit}' --quick --out '{Path.Combine(Temp.Path, "out")}'");

        Assert.True(code == 2, $"device-check exited {code}:\n{log}");
        Assert.Contains("fails its MANIFEST.sha256: copy it again", log);
    }

    private static (int Code, string Log) Bash(string root, string command, params (string Name, string Value)[] env)
    {
        var start = new ProcessStartInfo("bash", ["-c", command + " 2>&1"])
        {
            WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var (name, value) in env) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(8)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{command} ran past 8 minutes:\n{stdout.Result}");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
