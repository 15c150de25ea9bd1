using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using Qnn.Gpu;

namespace Qnn.Benchmarks.Gpu;

/// <summary>
/// The device's peak rate of binary operations, from its properties: each 32-bit POPC instruction counts 32
/// XNOR-popcount multiply-accumulates, and one binary MAC is 2 operations (XOR, popcount-add), as a float MAC is
/// 2 FLOPs. NVIDIA GPUs of compute capability 7.0–9.0 issue 16 POPC per clock per SM (CUDA C++ Programming Guide,
/// arithmetic instruction throughput table), so
/// peak = SMs × clock × 16 POPC/clock/SM × 32 bits × 2 ops.
/// Other accelerators have no peak here: the report says so instead of guessing.
/// </summary>
public sealed record PopcountPeak(double? OpsPerSecond, string Formula)
{
    public const int PopcPerClockPerSm = 16;

    public static PopcountPeak Of(GpuDevice device)
    {
        if (device.Accelerator is CudaAccelerator cuda)
        {
            // CUDA reports the clock in kHz (cudaDevAttrClockRate).
            double clockHz = cuda.ClockRate * 1000.0;
            int sms = cuda.NumMultiprocessors;
            double peak = sms * clockHz * PopcPerClockPerSm * 32 * 2;
            return new PopcountPeak(peak, $"{sms} SMs x {clockHz / 1e6:0} MHz x {PopcPerClockPerSm} POPC/clock/SM x 32 bits x 2 ops = {peak / 1e12:0.0} Tops/s (architecture {cuda.Architecture})");
        }
        return new PopcountPeak(null, $"no popcount peak for a {device.Accelerator.AcceleratorType} accelerator (the formula needs a CUDA device's SM count and clock)");
    }
}
