using Qnn.Format;
using Qnn.Gpu;
using Qnn.Runtime.Gpu;

namespace Qnn.Verification;

/// <summary>
/// The runtimes named by the user (portable, fast, gpu, onnx), opened once; the GPU's accelerator is chosen here, at the
/// edge, and one GPU runtime is opened per kernel version.
/// </summary>
public sealed class RuntimeSet : IDisposable
{
    public IReadOnlyList<IntegerRuntime> Runtimes { get; }
    /// <summary>The accelerator's notice (e.g. the CPU fallback), or null.</summary>
    public string? Notice => _device?.Notice;
    private GpuDevice? _device;

    /// <param name="warn">Told what is worth a line on the console: an accelerator fallback, a kernel version skipped.</param>
    public RuntimeSet(QnnModel m, IEnumerable<string> names, string accelerator, string kernel, Action<string>? warn = null)
    {
        var list = new List<IntegerRuntime>();
        try
        {
            foreach (string name in names)
                switch (name.ToLowerInvariant())
                {
                    case "portable": list.Add(new PortableRuntime(m)); break;
                    case "fast": list.Add(new FastRuntime(m)); break;
                    case "gpu": list.AddRange(OpenGpu(m, accelerator, kernel, warn)); break;
                    case "onnx": list.Add(new OnnxRuntimeAdapter(m)); break;
                    default: throw new VerificationException($"unknown runtime \"{name}\": use portable, fast, gpu or onnx");
                }
        }
        catch
        {
            foreach (IntegerRuntime r in list) r.Dispose();
            _device?.Dispose();
            throw;
        }
        Runtimes = list;
    }

    private IEnumerable<IntegerRuntime> OpenGpu(QnnModel m, string accelerator, string kernel, Action<string>? warn)
    {
        KernelVersion[] versions;
        GpuDevice device;
        try
        {
            device = _device ??= OpenDevice(accelerator, warn);
            versions = kernel.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(k => k == "auto" ? (device.IsCpu ? KernelVersion.XnorGemm1 : KernelVersions.Default) : KernelVersions.Parse(k)).ToArray();
        }
        catch (NotSupportedException e) { throw new VerificationException(e.Message); }
        if (versions.Contains(KernelVersion.CuBlas) && !device.IsCuda) throw new VerificationException($"--kernel cublas needs a CUDA accelerator, this is {device.Name}");
        var opened = new List<IntegerRuntime>();
        foreach (KernelVersion version in versions)
        {
            if (version == KernelVersion.CuBlas)
            {
                using CuBlasGemm? probe = CuBlasGemm.TryCreate(device.Accelerator, out string? why);
                if (probe is null)
                {   // a CUDA machine without the cuBLAS library: say so and compare the others
                    warn?.Invoke($"skipping the cublas-sgemm runtime: {why}");
                    continue;
                }
            }
            opened.Add(new GpuRuntime(new GpuInterpreter(device, m), version));
        }
        return opened;
    }

    private static GpuDevice OpenDevice(string accelerator, Action<string>? warn)
    {
        GpuDevice device = GpuDevice.Open(GpuDevice.ParseKind(accelerator));
        if (device.Notice is { } notice) warn?.Invoke(notice);
        return device;
    }

    public void Dispose()
    {
        foreach (IntegerRuntime r in Runtimes) r.Dispose();
        _device?.Dispose();
    }
}
