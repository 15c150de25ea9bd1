using System.CommandLine;
using Qnn.Benchmarks.Gpu;
using Qnn.Datasets;
using Qnn.Format;
using Qnn.Gpu;
using Qnn.Runtime.Gpu;
using Spectre.Console;

using Qnn.Verification;

namespace Qnn.Cli.Commands;

/// <summary>
/// `qnn bench gpu [MODEL] [--gemm 8192,...] [--accelerator cuda|opencl|cpu] [--json]`: every kernel version of the
/// GPU runtime, validated against the portable interpreter and then timed: the whole network per batch, and the
/// binary GEMM at given sizes (the paper's 8192 × 8192 × 8192). Speedups are over the float baseline kernel measured
/// in the same run; binary ops/s are set against the device's popcount peak (formula printed with the figures).
/// </summary>
public static class BenchGpuCommand
{
    public sealed record Result(string Device, string? Notice, NetworkBench.Report? Network, IReadOnlyList<GemmBench.Report> Gemm);

    public static Command Create()
    {
        var model = new Argument<string?>("model") { Description = "The .qnn model to time (optional with --gemm).", Arity = ArgumentArity.ZeroOrOne };
        var accelerator = new Option<string>("--accelerator") { Description = "cuda, opencl, cpu or auto (CUDA, else OpenCL, else the CPU accelerator).", DefaultValueFactory = _ => "auto" };
        var gemm = new Option<string?>("--gemm") { Description = "Binary GEMM sizes, comma-separated: N (for N×N×N) or MxNxK, e.g. 1024,4096,8192." };
        var kernels = new Option<string>("--kernels") { Description = "Kernel versions to run, comma-separated.", DefaultValueFactory = _ => "float,cublas,xnor1,xnor2,xnor3" };
        var dataset = new Option<string?>("--dataset") { Description = "Take the images from this data set's test split (mnist or idx:FOLDER) instead of random ones." };
        var batch = new Option<int>("--batch") { Description = "Images per device pass (default 256; 32 on the CPU accelerator)." };
        var validate = new Option<int>("--validate") { Description = "Images checked against the portable interpreter before a version is timed.", DefaultValueFactory = _ => 64 };
        var minSeconds = new Option<double>("--min-seconds") { Description = "Repeat each timing for at least this long.", DefaultValueFactory = _ => 0.5 };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON." };
        var list = new Option<bool>("--list") { Description = "Print ILGPU's view of the devices (and whether cuBLAS loads), then stop." };
        var command = new Command("gpu", "GPU kernels: time per kernel version, samples/s, speedup over the float baseline kernel, binary ops/s against the popcount peak.");
        command.Arguments.Add(model);
        foreach (Option o in new Option[] { accelerator, gemm, kernels, dataset, batch, validate, minSeconds, json, list }) command.Options.Add(o);
        command.SetAction(parse => Cli.Run("bench gpu", () =>
        {
            if (parse.GetValue(list))
            {
                DeviceSurvey.Describe(Console.Out);
                return 0;
            }
            string? path = parse.GetValue(model);
            string? sizes = parse.GetValue(gemm);
            if (path is null && sizes is null) throw new UserError("give a model file, --gemm sizes, or both");
            Cli.Check(new("--batch", 1, 65_536, Sentinel: 0, SentinelMeaning: "256, or 32 on the CPU accelerator"), parse.GetValue(batch));
            Cli.Check(new("--validate", 1, 100_000), parse.GetValue(validate));
            Cli.Check(new("--min-seconds", 0, 600, Integer: false), parse.GetValue(minSeconds));
            KernelVersion[] versions;
            GpuDevice device;
            try
            {
                versions = parse.GetValue(kernels)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(KernelVersions.Parse)
                    .Distinct().OrderBy(v => v).ToArray();
                device = GpuDevice.Open(GpuDevice.ParseKind(parse.GetValue(accelerator)));
            }
            catch (NotSupportedException e) { throw new UserError(e.Message); }
            using (device)
            {
                bool asJson = parse.GetValue(json);
                if (device.Notice is { } notice) Console.Error.WriteLine($"qnn bench gpu: {notice}");
                double seconds = parse.GetValue(minSeconds);
                NetworkBench.Report? network = null;
                if (path is not null)
                {
                    QnnModel m = ModelFile.Load(path);
                    int perPass = parse.GetValue(batch) is > 0 and var b ? b : device.IsCpu ? 32 : 256;
                    int validation = Math.Max(1, parse.GetValue(validate));
                    byte[] images = Images(parse.GetValue(dataset), m, path, Math.Max(perPass, validation), out int count);
                    network = Step(asJson, $"timing {Path.GetFileName(path)}", report => NetworkBench.Run(device, m, path, images, count, validation, perPass, seconds, versions, report));
                }
                var gemms = new List<GemmBench.Report>();
                foreach (var (mm, nn, kk) in ParseSizes(sizes))
                    gemms.Add(Step(asJson, $"binary GEMM {mm}x{nn}x{kk}", report => GemmBench.Run(device, mm, nn, kk, seconds, versions, progress: report)));
                var result = new Result(device.Name, device.Notice, network, gemms);
                if (asJson) Cli.PrintJson(result);
                else Render(result, Cli.Out);
                bool allValid = (network?.Versions.All(v => v.Valid || IsUnavailable(v.Problem)) ?? true)
                    && gemms.All(g => g.Versions.All(v => v.Valid || IsUnavailable(v.Problem)));
                return allValid ? 0 : 1;
            }
        }));
        return command;
    }

    /// <summary>A version that cannot run here (cuBLAS off CUDA) is reported, not a failure; a wrong result is.</summary>
    private static bool IsUnavailable(string? problem) => problem is not null && problem.StartsWith("cuBLAS", StringComparison.Ordinal);

    private static T Step<T>(bool quiet, string title, Func<Action<string>, T> work)
    {
        if (quiet) return work(_ => { });
        return Cli.Err.Status().Start(title, ctx => work(version => ctx.Status($"{title}: {version}")));
    }

    private static byte[] Images(string? dataset, QnnModel m, string path, int wanted, out int count)
    {
        if (dataset is not null)
        {
            Dataset test = Verifier.TestSplit(dataset, m, path, wanted);
            count = test.Count;
            return test.Pixels;
        }
        count = wanted;
        var images = new byte[wanted * m.InputHeight * m.InputWidth * m.InputChannels];
        new Random(1).NextBytes(images);
        return images;
    }

    /// <summary>"8192" is 8192×8192×8192; "MxNxK" gives each.</summary>
    public static IEnumerable<(int M, int N, int K)> ParseSizes(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) yield break;
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int[] d = part.Split('x', 'X').Select(s => int.TryParse(s, out int v) && v is >= 2 and <= 65535 ? v : throw new UserError($"--gemm: \"{part}\" is not N or MxNxK with sizes 2-65535")).ToArray();
            if (d.Length == 1) yield return (d[0], d[0], d[0]);
            else if (d.Length == 3) yield return (d[0], d[1], d[2]);
            else throw new UserError($"--gemm: \"{part}\" is not N or MxNxK");
        }
    }

    public static void Render(Result r, IAnsiConsole console)
    {
        console.MarkupLine($"[bold]{Markup.Escape(r.Device)}[/]");
        if (r.Network is { } n)
        {
            console.MarkupLine($"network {Markup.Escape(n.Model)} (model id {n.ModelId}): {n.BinaryOpsPerSample:N0} binary ops per sample; " +
                $"each version checked on {n.ValidationSamples} images against the portable interpreter before timing");
            var t = new Table().AddColumns("kernel", "valid", "batch", "ms/batch", "samples/s", "speedup vs float", "binary Gops/s", "of peak");
            foreach (var v in n.Versions)
                t.AddRow(v.Version, v.Valid ? "[green]yes[/]" : $"[red]no[/]: {Markup.Escape(v.Problem ?? "")}", v.Batch.ToString(),
                    v.Valid ? $"{v.MsPerBatch:0.###}" : "", v.Valid ? $"{v.SamplesPerSecond:N0}" : "", Speedup(v.SpeedupOverBaseline),
                    v.Valid ? $"{v.BinaryOpsPerSecond / 1e9:N1}" : "", Share(v.PeakShare));
            console.Write(t);
            console.MarkupLine($"ops: {Markup.Escape(n.OpsDefinition)}");
        }
        foreach (var g in r.Gemm)
        {
            console.MarkupLine($"binary GEMM {g.M}x{g.N}x{g.K} ({g.BinaryOps:0.###e0} binary ops); {g.ValidatedRows} rows x {g.ValidatedColumns} columns checked against the portable interpreter, every entry of the others against it");
            var t = new Table().AddColumns("kernel", "valid", "ms", "binary Gops/s", "speedup vs float", "of peak");
            foreach (var v in g.Versions)
                t.AddRow(v.Version, v.Valid ? "[green]yes[/]" : $"[red]no[/]: {Markup.Escape(v.Problem ?? "")}", v.Valid ? $"{v.Milliseconds:0.###}" : "",
                    v.Valid ? $"{v.BinaryOpsPerSecond / 1e9:N1}" : "", Speedup(v.SpeedupOverBaseline), Share(v.PeakShare));
            console.Write(t);
        }
        string peak = r.Network?.Peak ?? r.Gemm.FirstOrDefault()?.Peak ?? "";
        console.MarkupLine($"peak: {Markup.Escape(peak)}");
    }

    private static string Speedup(double? x) => x is { } v ? $"{v:0.##}x" : "";
    private static string Share(double? x) => x is { } v ? $"{v:P1}" : "n/a";
}
