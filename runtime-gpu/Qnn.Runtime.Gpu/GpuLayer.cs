using System.Numerics;
using ILGPU;
using ILGPU.Runtime;
using Qnn.Format;
using Qnn.Runtime.Gpu.Kernels;

namespace Qnn.Runtime.Gpu;

/// <summary>
/// One layer's parameters on the device: filter rows repacked to whole 64-bit words ([f][i][K64], zero words
/// appended), each filter plane's popcount (for unsigned input, SPEC 1.4), thresholds and flips or score offsets
/// and shifts, and, only when a float version runs, the filters as float levels.
/// </summary>
internal sealed class GpuLayer : IDisposable
{
    public readonly LayerSpec Spec;
    /// <summary>Per-sample sizes; <see cref="ConvShape.Rows"/> is set per batch.</summary>
    public readonly ConvShape Shape;
    public readonly MemoryBuffer1D<ulong, Stride1D.Dense>? Weights;
    public readonly MemoryBuffer1D<int, Stride1D.Dense>? WeightPop;
    public readonly MemoryBuffer1D<int, Stride1D.Dense>? Thresholds;
    public readonly MemoryBuffer1D<uint, Stride1D.Dense>? Flip;
    public readonly MemoryBuffer1D<int, Stride1D.Dense>? Offsets;
    public readonly MemoryBuffer1D<int, Stride1D.Dense>? Shifts;
    private MemoryBuffer1D<float, Stride1D.Dense>? _floatWeights;
    private readonly Accelerator _accelerator;

    public bool IsPool => Spec.Kind == LayerKind.MaxPool2D;
    public int FloatK => Spec.KernelH * Spec.KernelW * Spec.InC;
    public int RowsPerSample => Spec.ConvOutH * Spec.ConvOutW;

    public GpuLayer(Accelerator accelerator, LayerSpec l)
    {
        _accelerator = accelerator;
        Spec = l;
        int k32 = l.KernelH * l.KernelW * l.InChannelWords;
        Shape = new ConvShape
        {
            InH = l.InH, InW = l.InW, InC = l.InC, InCW = l.InChannelWords, InPlanes = l.InputBits, InWords = l.InputWords,
            ConvH = l.ConvOutH, ConvW = l.ConvOutW, KH = l.KernelH, KW = l.KernelW, SH = l.StrideH, SW = l.StrideW,
            PadTop = l.PadTop, PadLeft = l.PadLeft, Signed = l.InputSigned ? 1 : 0, K32 = k32, K64 = (k32 + 1) / 2,
        };
        if (IsPool) return;
        uint[] w = l.Weights ?? throw new ArgumentException("the model was read without its layer data", nameof(l));
        int rowsOfFilters = l.OutC * l.WeightBits;
        var w64 = new ulong[rowsOfFilters * Shape.K64];
        var pop = new int[rowsOfFilters];
        for (int r = 0; r < rowsOfFilters; r++)
            for (int k = 0; k < k32; k++)
            {
                uint word = w[r * k32 + k];
                w64[r * Shape.K64 + (k >> 1)] |= (ulong)word << (32 * (k & 1));
                pop[r] += BitOperations.PopCount(word);
            }
        Weights = accelerator.Allocate1D(w64);
        WeightPop = accelerator.Allocate1D(pop);
        if (l.Output == OutputKind.Thresholds)
        {
            Thresholds = accelerator.Allocate1D(l.Thresholds!);
            Flip = accelerator.Allocate1D(l.Flip!);
        }
        else
        {
            Offsets = accelerator.Allocate1D(l.Offsets!);
            Shifts = accelerator.Allocate1D(l.Shifts!);
        }
    }

    /// <summary>The filters as float levels v = Σ_i 2^i · s_i, [f][(ky · KW + kx) · C + c], for the float baselines.</summary>
    public ArrayView<float> FloatWeights
    {
        get
        {
            if (_floatWeights is null)
            {
                LayerSpec l = Spec;
                int kf = FloatK, cw = l.InChannelWords, top = (1 << l.WeightBits) - 1;
                var wf = new float[l.OutC * kf];
                for (int f = 0; f < l.OutC; f++)
                    for (int p = 0; p < l.KernelH * l.KernelW; p++)
                        for (int c = 0; c < l.InC; c++)
                        {
                            int q = 0;
                            for (int i = 0; i < l.WeightBits; i++)
                                q |= (int)((l.Weights![((f * l.WeightBits + i) * l.KernelH * l.KernelW + p) * cw + (c >> 5)] >> (c & 31)) & 1u) << i;
                            wf[f * kf + p * l.InC + c] = 2 * q - top;
                        }
                _floatWeights = _accelerator.Allocate1D(wf);
            }
            return _floatWeights.View;
        }
    }

    public GemmShape Gemm(int rows) => new()
    {
        Rows = rows, Filters = Spec.OutC, K64 = Shape.K64, InPlanes = Spec.InputBits, WeightPlanes = Spec.WeightBits,
        Signed = Shape.Signed, Kc = Spec.KernelH * Spec.KernelW * Spec.InC,
    };

    public void Dispose()
    {
        Weights?.Dispose();
        WeightPop?.Dispose();
        Thresholds?.Dispose();
        Flip?.Dispose();
        Offsets?.Dispose();
        Shifts?.Dispose();
        _floatWeights?.Dispose();
    }
}
