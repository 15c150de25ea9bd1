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
    /// <summary>Log weights (SPEC 1.3) for <see cref="LogGemm"/>: [f][1 + E][2·K64] words (sign, then masks M_e), and N_e [f][E].</summary>
    public readonly MemoryBuffer1D<uint, Stride1D.Dense>? LogWeights;
    public readonly MemoryBuffer1D<int, Stride1D.Dense>? LogPop;
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
        if (l.WeightCode == WeightCode.Log)
        {
            var (logWords, logPop) = SplitLog(l, 2 * Shape.K64);
            LogWeights = accelerator.Allocate1D(logWords);
            LogPop = accelerator.Allocate1D(logPop);
        }
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

    /// <summary>
    /// A log layer's planes as <see cref="LogGemm"/> reads them: per filter the sign plane, then for each exponent e
    /// the mask of the channels whose exponent planes spell e (bits past C cleared), rows of <paramref name="k32"/>
    /// words; and the popcount N_e of each mask.
    /// </summary>
    private static (uint[] Words, int[] Pop) SplitLog(LayerSpec l, int k32)
    {
        int m = l.WeightBits, exponents = l.LogExponents, positions = l.KernelH * l.KernelW, cw = l.InChannelWords;
        int planeWords = positions * cw;
        var words = new uint[l.OutC * (1 + exponents) * k32];
        var pop = new int[l.OutC * exponents];
        int rem = l.InC & 31;
        for (int f = 0; f < l.OutC; f++)
        {
            int src = f * m * planeWords, dst = f * (1 + exponents) * k32;
            for (int k = 0; k < planeWords; k++)
            {
                uint valid = rem != 0 && k % cw == cw - 1 ? (1u << rem) - 1u : 0xFFFFFFFFu;
                words[dst + k] = l.Weights![src + k];
                for (int e = 0; e < exponents; e++)
                {
                    uint mask = valid;
                    for (int i = 1; i < m; i++)
                    {
                        uint p = l.Weights[src + i * planeWords + k];
                        mask &= ((e >> (i - 1)) & 1) != 0 ? p : ~p;
                    }
                    words[dst + (1 + e) * k32 + k] = mask;
                    pop[f * exponents + e] += BitOperations.PopCount(mask);
                }
            }
        }
        return (words, pop);
    }

    /// <summary>The filters as float values (odd levels v = Σ_i 2^i · s_i, or log weights ±2^e: <see cref="LayerSpec.WeightValue"/>), [f][(ky · KW + kx) · C + c], for the float baselines.</summary>
    public ArrayView<float> FloatWeights
    {
        get
        {
            if (_floatWeights is null)
            {
                LayerSpec l = Spec;
                int kf = FloatK, cw = l.InChannelWords;
                var wf = new float[l.OutC * kf];
                for (int f = 0; f < l.OutC; f++)
                    for (int p = 0; p < l.KernelH * l.KernelW; p++)
                        for (int c = 0; c < l.InC; c++)
                        {
                            int q = 0;
                            for (int i = 0; i < l.WeightBits; i++)
                                q |= (int)((l.Weights![((f * l.WeightBits + i) * l.KernelH * l.KernelW + p) * cw + (c >> 5)] >> (c & 31)) & 1u) << i;
                            wf[f * kf + p * l.InC + c] = l.WeightValue(q);
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
        Exponents = Spec.WeightCode == WeightCode.Log ? Spec.LogExponents : 0,
    };

    public void Dispose()
    {
        Weights?.Dispose();
        WeightPop?.Dispose();
        Thresholds?.Dispose();
        Flip?.Dispose();
        Offsets?.Dispose();
        Shifts?.Dispose();
        LogWeights?.Dispose();
        LogPop?.Dispose();
        _floatWeights?.Dispose();
    }
}
