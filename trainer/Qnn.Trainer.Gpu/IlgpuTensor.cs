using ILGPU;
using ILGPU.Runtime;
using Qnn.Trainer.Backends;

namespace Qnn.Trainer.Gpu;

/// <summary>A tensor in an ILGPU accelerator's memory (at least one element, so that every view is valid).</summary>
public sealed class IlgpuTensor : Tensor
{
    public IlgpuTensor(Accelerator accelerator, int[] shape) : base(shape)
    {
        Buffer = accelerator.Allocate1D<float>(Math.Max(1, Length));
        Buffer.MemSetToZero();
    }

    public MemoryBuffer1D<float, Stride1D.Dense> Buffer { get; }

    /// <summary>The whole buffer as a kernel argument.</summary>
    public ArrayView<float> View => Buffer.View.AsContiguous();

    public override void Dispose()
    {
        Buffer.Dispose();
        base.Dispose();
    }
}
