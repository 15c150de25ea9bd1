using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;
using Qnn.Gpu;

namespace Qnn.Runtime.Gpu;

/// <summary>What the runtime would find on this machine, for the device check (`qnn bench gpu --list`).</summary>
public static class DeviceSurvey
{
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
                using Accelerator accelerator = d.CreateAccelerator(context);
                output.WriteLine($"  accelerator opens: {GpuDevice.NameOf(accelerator)}");
                using var blas = CuBlasGemm.TryCreate(accelerator, out string? reason);
                output.WriteLine(blas is null ? $"  {reason}" : "  cuBLAS loads (ILGPU.Algorithms looks for libcublas.so.12, .11, .10)");
            }
            catch (Exception e) // report how the accelerator fails to open (e.g. an architecture ILGPU does not know)
            {
                output.WriteLine($"  accelerator does not open: {e.GetType().Name}: {e.Message}");
            }
        }
    }
}
