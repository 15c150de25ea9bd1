using Qnn.Gpu;
using Qnn.Trainer.Gpu;

namespace Qnn.Trainer.Gpu.Tests;

/// <summary>One ILGPU CPU accelerator and one ILGPU backend on it for the whole run: kernels are compiled once.</summary>
public sealed class CpuAccelerator : IDisposable
{
    public GpuDevice Device { get; } = GpuDevice.Open(AcceleratorKind.Cpu);

    /// <summary>A new backend on the shared device (the device outlives it).</summary>
    public IlgpuBackend Backend() => new(Device);

    public void Dispose() => Device.Dispose();
}

[CollectionDefinition(Name)]
public sealed class CpuAcceleratorCollection : ICollectionFixture<CpuAccelerator>
{
    public const string Name = "trainer cpu accelerator";
}
