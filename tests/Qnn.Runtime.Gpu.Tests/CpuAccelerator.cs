using Qnn.Gpu;
using Qnn.Runtime.Gpu;

namespace Qnn.Runtime.Gpu.Tests;

/// <summary>One ILGPU CPU accelerator for the whole test run: kernels are compiled once.</summary>
public sealed class CpuAccelerator : IDisposable
{
    public GpuDevice Device { get; } = GpuDevice.Open(AcceleratorKind.Cpu);

    public void Dispose() => Device.Dispose();
}

[CollectionDefinition(Name)]
public sealed class CpuAcceleratorCollection : ICollectionFixture<CpuAccelerator>
{
    public const string Name = "cpu accelerator";
}
