using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Qnn.Gpu;

/// <summary>Which ILGPU accelerator to run on; <see cref="Auto"/> takes CUDA, else OpenCL, else the CPU accelerator.</summary>
public enum AcceleratorKind { Auto, Cuda, OpenCL, Cpu }

/// <summary>
/// The ILGPU context and the one accelerator of a program, chosen once at its edge (ILGPU samples style): every
/// kernel takes its accelerator from here, so the same kernels run on CUDA, OpenCL and, in tests, on ILGPU's CPU
/// accelerator. It knows no kernels: the GPU runtime and the GPU trainer compile theirs for its accelerator.
/// </summary>
public sealed class GpuDevice : IDisposable
{
    public Context Context { get; }
    public Accelerator Accelerator { get; }
    /// <summary>Set when the choice fell back to something slow or unexpected (printed once by the caller).</summary>
    public string? Notice { get; }

    public bool IsCuda => Accelerator.AcceleratorType == AcceleratorType.Cuda;
    public bool IsCpu => Accelerator.AcceleratorType == AcceleratorType.CPU;

    public string Name => NameOf(Accelerator);

    /// <summary>How reports name an accelerator: its type, then its own name.</summary>
    public static string NameOf(Accelerator accelerator) => $"{accelerator.AcceleratorType} {accelerator.Name}";

    private GpuDevice(Context context, Accelerator accelerator, string? notice)
    {
        Context = context;
        Accelerator = accelerator;
        Notice = notice;
    }

    /// <summary>Parses the --accelerator option (cuda|opencl|cpu|auto).</summary>
    public static AcceleratorKind ParseKind(string? text) => (text ?? "auto").ToLowerInvariant() switch
    {
        "auto" or "" => AcceleratorKind.Auto,
        "cuda" => AcceleratorKind.Cuda,
        "opencl" or "cl" => AcceleratorKind.OpenCL,
        "cpu" => AcceleratorKind.Cpu,
        _ => throw new NotSupportedException($"unknown accelerator \"{text}\": use cuda, opencl, cpu or auto"),
    };

    /// <summary>Opens the accelerator of <paramref name="kind"/>; throws <see cref="NotSupportedException"/> when a requested one is absent.</summary>
    /// <param name="cpuGroupThreads">
    /// Threads per group of the CPU accelerator: 16 (ILGPU's default) runs fastest, since each simulated thread is an
    /// OS thread that meets the others at every barrier; 256 lets the tiled kernels run with their GPU group size.
    /// </param>
    public static GpuDevice Open(AcceleratorKind kind, int cpuGroupThreads = 16)
    {
        var cpu = new CPUDevice(numThreadsPerWarp: 4, numWarpsPerMultiprocessor: cpuGroupThreads / 4, numMultiprocessors: 1);
        Context context = Context.Create(b => b.Cuda().OpenCL().CPU(cpu).EnableAlgorithms());
        try
        {
            Device? Find(AcceleratorType type) => context.Devices.FirstOrDefault(d => d.AcceleratorType == type);
            Device? device;
            string? notice = null;
            switch (kind)
            {
                case AcceleratorKind.Cuda:
                    device = Find(AcceleratorType.Cuda) ?? throw new NotSupportedException("--accelerator cuda: no CUDA device found (is the NVIDIA driver installed?)");
                    break;
                case AcceleratorKind.OpenCL:
                    device = Find(AcceleratorType.OpenCL) ?? throw new NotSupportedException("--accelerator opencl: no OpenCL device found");
                    break;
                case AcceleratorKind.Cpu:
                    device = Find(AcceleratorType.CPU)!;
                    break;
                default:
                    device = Find(AcceleratorType.Cuda) ?? Find(AcceleratorType.OpenCL);
                    if (device is null)
                    {
                        device = Find(AcceleratorType.CPU)!;
                        notice = "no CUDA or OpenCL device found: running the GPU kernels on ILGPU's CPU accelerator (correct, but slow; timings are not GPU figures)";
                    }
                    break;
            }
            return new GpuDevice(context, device.CreateAccelerator(context), notice);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }
}
