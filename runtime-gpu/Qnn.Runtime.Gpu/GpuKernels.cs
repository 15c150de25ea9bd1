using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using Qnn.Runtime.Gpu.Kernels;

namespace Qnn.Runtime.Gpu;

/// <summary>Every kernel of the runtime, compiled once per accelerator.</summary>
public sealed class GpuKernels
{
    private static readonly ConditionalWeakTable<Accelerator, GpuKernels> Compiled = new();

    /// <summary>The kernels compiled for <paramref name="accelerator"/> on first use, kept while it lives.</summary>
    public static GpuKernels For(Accelerator accelerator) => Compiled.GetValue(accelerator, a => new GpuKernels(a));

    public readonly Action<Index1D, ArrayView<byte>, ArrayView<uint>, InputShape> BitPlanes;
    public readonly Action<Index1D, ArrayView<uint>, ArrayView<ulong>, ConvShape> Im2Col;
    public readonly Action<Index2D, ArrayView<uint>, ArrayView<uint>, ArrayView<int>, ArrayView<int>, GemmShape> XnorGemm1;
    public readonly Action<KernelConfig, ArrayView<ulong>, ArrayView<ulong>, ArrayView<int>, ArrayView<int>, GemmShape> XnorGemm2;
    public readonly Action<Index2D, ArrayView<uint>, ArrayView<uint>, ArrayView<int>, ArrayView<int>, GemmShape> LogGemm;
    public readonly Action<KernelConfig, ArrayView<ulong>, ArrayView<ulong>, ArrayView<int>, ArrayView<int>, ArrayView<uint>, ArrayView<uint>, GemmShape, ThresholdShape> XnorGemm3;
    public readonly Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<uint>, ArrayView<uint>, ThresholdShape> ThresholdPack;
    public readonly Action<Index1D, ArrayView<int>, ArrayView<int>, PoolShape> PoolAccumulators;
    public readonly Action<Index1D, ArrayView<uint>, ArrayView<uint>, PoolShape> PoolLevels;
    public readonly Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<int>, int> Scores;
    public readonly Action<Index1D, ArrayView<uint>, ArrayView<float>, ConvShape> FloatIm2Col;
    public readonly Action<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int> FloatGemm;
    public readonly Action<Index1D, ArrayView<float>, ArrayView<int>> FloatToInt;

    /// <summary>Threads per group of the tiled versions: 16 × 16 where the accelerator allows 256 threads per group (GPUs), else 8 × 2 (see <see cref="XnorTile"/>).</summary>
    public readonly int TileGroupX, TileGroupY;

    public GpuKernels(Accelerator a)
    {
        bool small = a.MaxNumThreadsPerGroup < XnorTile.MaxGroupX * XnorTile.MaxGroupY;
        TileGroupX = small ? 8 : XnorTile.MaxGroupX;
        TileGroupY = small ? 2 : XnorTile.MaxGroupY;
        BitPlanes = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<byte>, ArrayView<uint>, InputShape>(Kernels.BitPlanes.Kernel);
        Im2Col = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<uint>, ArrayView<ulong>, ConvShape>(Kernels.Im2Col.Kernel);
        XnorGemm1 = a.LoadAutoGroupedStreamKernel<Index2D, ArrayView<uint>, ArrayView<uint>, ArrayView<int>, ArrayView<int>, GemmShape>(Kernels.XnorGemm1.Kernel);
        LogGemm = a.LoadAutoGroupedStreamKernel<Index2D, ArrayView<uint>, ArrayView<uint>, ArrayView<int>, ArrayView<int>, GemmShape>(Kernels.LogGemm.Kernel);
        XnorGemm2 = a.LoadStreamKernel<ArrayView<ulong>, ArrayView<ulong>, ArrayView<int>, ArrayView<int>, GemmShape>(Kernels.XnorGemm2.Kernel);
        XnorGemm3 = a.LoadStreamKernel<ArrayView<ulong>, ArrayView<ulong>, ArrayView<int>, ArrayView<int>, ArrayView<uint>, ArrayView<uint>, GemmShape, ThresholdShape>(Kernels.XnorGemm3.Kernel);
        ThresholdPack = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<uint>, ArrayView<uint>, ThresholdShape>(Thresholds.PackKernel);
        PoolAccumulators = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, PoolShape>(Pooling.AccumulatorKernel);
        PoolLevels = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<uint>, ArrayView<uint>, PoolShape>(Pooling.LevelKernel);
        Scores = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<int>, int>(Kernels.Scores.Kernel);
        FloatIm2Col = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<uint>, ArrayView<float>, ConvShape>(FloatBaseline.Im2ColKernel);
        FloatGemm = a.LoadAutoGroupedStreamKernel<Index2D, ArrayView<float>, ArrayView<float>, ArrayView<int>, int, int>(FloatBaseline.GemmKernel);
        FloatToInt = a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<int>>(FloatBaseline.ToIntKernel);
    }

    /// <summary>
    /// The launch grid of the tiled versions for a Rows × Filters GEMM: one group per (4·Y)-row × (4·X)-filter tile,
    /// row tiles along the grid's X (CUDA limits the grid's Y to 65535; batch × pixels rows can exceed it).
    /// </summary>
    public KernelConfig TileGrid(GemmShape g) => new(
        new Index2D((g.Rows + 4 * TileGroupY - 1) / (4 * TileGroupY), (g.Filters + 4 * TileGroupX - 1) / (4 * TileGroupX)),
        new Index2D(TileGroupX, TileGroupY));
}
