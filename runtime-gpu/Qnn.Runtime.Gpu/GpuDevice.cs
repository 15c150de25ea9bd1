using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace Qnn.Runtime.Gpu;

/// <summary>Which ILGPU accelerator to run on; <see cref="Auto"/> takes CUDA, else OpenCL, else the CPU accelerator.</summary>
public enum AcceleratorKind { Auto, Cuda, OpenCL, Cpu }

/// <summary>
/// The ILGPU context and the one accelerator of a program, chosen once at its edge (ILGPU samples style): every
/// kernel takes its accelerator from here, so the same kernels run on CUDA, OpenCL and, in tests, on ILGPU's CPU
/// accelerator.
/// </summary>
public sealed class GpuDevice : IDisposable
{

    public Context Context { get; }
    public Accelerator Accelerator { get; }
    /// <summary>Set when the choice fell back to something slow or unexpected (printed once by the caller).</summary>
    public string? Notice { get; }

    public bool IsCuda => Accelerator.AcceleratorType == AcceleratorType.Cuda;
    public bool IsCpu => Accelerator.AcceleratorType == AcceleratorType.CPU;

    private GpuKernels? _kernels;
    /// <summary>The runtime's kernels, compiled for this accelerator on first use.</summary>
    public GpuKernels Kernels => _kernels ??= new GpuKernels(Accelerator);
    public string Name => $"{Accelerator.AcceleratorType} {Accelerator.Name}";

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

    /// <summary>
    /// ILGPU's view of this machine: every CUDA and OpenCL device it finds with its own description, and for
    /// CUDA whether an accelerator opens and cuBLAS loads. For the device check, which prints it beside nvidia-smi.
    /// </summary>
    public static void Describe(TextWriter output)
    {
        using Context context = Context.Create(b => b.Cuda().OpenCL().EnableAlgorithms());
        Device[] devices = context.Devices.Where(d => d.AcceleratorType != AcceleratorType.CPU).ToArray();
        if (devices.Length == 0)
            output.WriteLine("ILGPU finds no CUDA or OpenCL device: the GPU kernels would run on ILGPU's CPU accelerator");
        foreach (Device d in devices)
        {
            output.WriteLine($"{d.AcceleratorType} device: {d.Name}");
            d.PrintInformation(output);
            if (d.AcceleratorType != AcceleratorType.Cuda) continue;
            try
            {
                using var gpu = new GpuDevice(context, d.CreateAccelerator(context), null);
                output.WriteLine($"  accelerator opens: {gpu.Name}");
                using var blas = CuBlasGemm.TryCreate(gpu, out string? reason);
                output.WriteLine(blas is null ? $"  {reason}" : "  cuBLAS loads (ILGPU.Algorithms looks for libcublas.so.12, .11, .10)");
            }
            catch (Exception e) // report how the accelerator fails to open (e.g. an architecture ILGPU does not know)
            {
                output.WriteLine($"  accelerator does not open: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    public void Dispose()
    {
        Accelerator.Dispose();
        Context.Dispose();
    }
}
