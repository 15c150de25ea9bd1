using ILGPU;
using ILGPU.Runtime;
using Qnn.Format;
using Qnn.Gpu;
using Qnn.Runtime.Gpu.Kernels;

namespace Qnn.Runtime.Gpu;

/// <summary>
/// A sequence model (SPEC 1.10) on one ILGPU accelerator: a batch of sequences stepped together, one kernel launch per
/// layer stage per step (embedding, gate accumulators, units; the Dense layers as the image runtime runs them, with
/// <see cref="KernelVersion.XnorGemm1"/>). The state (h, c) stays on the device between steps; every buffer is
/// allocated once.
/// </summary>
public sealed class GpuSequenceInterpreter : IDisposable
{
    private readonly Accelerator _acc;
    private readonly QnnModel _model;
    private readonly int _sequences;
    private readonly Action<Index1D, ArrayView<uint>, ArrayView<int>, ArrayView<uint>, int> _embed;
    private readonly Action<Index2D, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<int>, ArrayView<int>, ArrayView<int>, RecurrentShape> _gates;
    private readonly Action<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<uint>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<uint>, ArrayView<uint>, RecurrentShape> _units;
    private readonly MemoryBuffer1D<uint, Stride1D.Dense> _table, _embedded;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _tokens, _started, _accX, _accH;
    private readonly Layer[] _recurrent;
    private readonly GpuLayer[] _dense;
    private readonly MemoryBuffer1D<uint, Stride1D.Dense>[] _denseOut;
    private readonly MemoryBuffer1D<ulong, Stride1D.Dense> _rows;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _acc32, _scores;
    private readonly int[] _startedHost;
    private readonly int _rowWords;

    private sealed class Layer(Accelerator a, LayerSpec l, int sequences) : IDisposable
    {
        public readonly LayerSpec Spec = l;
        public readonly RecurrentShape Shape = ShapeOf(l);
        public readonly MemoryBuffer1D<uint, Stride1D.Dense> Weights = a.Allocate1D(l.Weights!);
        public readonly MemoryBuffer1D<int, Stride1D.Dense> Gates = a.Allocate1D(l.Thresholds!);
        public readonly MemoryBuffer1D<uint, Stride1D.Dense> Flip = a.Allocate1D(l.Flip!);
        public readonly MemoryBuffer1D<int, Stride1D.Dense> State = a.Allocate1D(l.StateThresholds!);
        public readonly MemoryBuffer1D<int, Stride1D.Dense> Cells = a.Allocate1D<int>(Math.Max(1, sequences * l.OutC));
        /// <summary>h and the step's new output, swapped after every step.</summary>
        public MemoryBuffer1D<uint, Stride1D.Dense> Hidden = a.Allocate1D<uint>(sequences * l.OutputWords), Next = a.Allocate1D<uint>(sequences * l.OutputWords);

        private static RecurrentShape ShapeOf(LayerSpec l)
        {
            int[] starts = Enumerable.Range(0, 4).Select(gate => gate < l.GateCount ? l.GateThresholdStart(gate * l.OutC) : 0).ToArray();
            return new RecurrentShape
            {
                Inputs = l.InC, InputWords = l.InChannelWords, Hidden = l.OutC, HiddenWords = l.OutChannelWords, Gates = l.GateChannels,
                WeightPlanes = l.WeightBits, Bits = l.OutputBits, GateBits = l.GateBits, GateLevels = l.GateLevels, Levels = l.Levels,
                CellLevels = l.Kind == LayerKind.Lstm ? l.CellLevels : 0, Lstm = l.Kind == LayerKind.Lstm ? 1 : 0,
                Start0 = starts[0], Start1 = starts[1], Start2 = starts[2], Start3 = starts[3],
            };
        }

        public void Dispose()
        {
            Weights.Dispose(); Gates.Dispose(); Flip.Dispose(); State.Dispose(); Cells.Dispose(); Hidden.Dispose(); Next.Dispose();
        }
    }

    public GpuSequenceInterpreter(GpuDevice device, QnnModel model, int sequences = 1)
    {
        var layers = model.Layers;
        if (layers.Length < 2 || layers[0].Kind != LayerKind.Embedding) throw new ArgumentException("a sequence model starts with an Embedding (SPEC 1.10)");
        if (sequences < 1) throw new ArgumentException("sequences must be at least 1");
        _acc = device.Accelerator;
        _model = model;
        _sequences = sequences;
        _embed = _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<uint>, ArrayView<int>, ArrayView<uint>, int>(Recurrent.EmbedKernel);
        _gates = _acc.LoadAutoGroupedStreamKernel<Index2D, ArrayView<uint>, ArrayView<uint>, ArrayView<uint>, ArrayView<int>, ArrayView<int>, ArrayView<int>, RecurrentShape>(Recurrent.GateKernel);
        _units = _acc.LoadAutoGroupedStreamKernel<Index1D, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<uint>, ArrayView<int>, ArrayView<int>, ArrayView<int>, ArrayView<uint>, ArrayView<uint>, RecurrentShape>(Recurrent.UnitsKernel);
        _rowWords = layers[0].OutputWords;
        _table = _acc.Allocate1D(layers[0].Weights ?? throw new ArgumentException("the model was read without its layer data"));
        _embedded = _acc.Allocate1D<uint>(sequences * _rowWords);
        _tokens = _acc.Allocate1D<int>(sequences);
        _started = _acc.Allocate1D<int>(sequences);
        _startedHost = new int[sequences];
        _recurrent = layers.Skip(1).TakeWhile(l => l.IsRecurrent).Select(l => new Layer(_acc, l, sequences)).ToArray();
        int gates = Math.Max(1, _recurrent.Select(r => r.Spec.GateChannels).DefaultIfEmpty(1).Max());
        _accX = _acc.Allocate1D<int>(sequences * gates);
        _accH = _acc.Allocate1D<int>(sequences * gates);
        _dense = layers.Skip(1 + _recurrent.Length).Select(l => new GpuLayer(_acc, l)).ToArray();
        _denseOut = _dense.Select(d => _acc.Allocate1D<uint>(Math.Max(1, sequences * d.Spec.OutputWords))).ToArray();
        _rows = _acc.Allocate1D<ulong>(Math.Max(1, _dense.Max(d => (long)sequences * d.Spec.InputBits * d.Shape.K64)));
        _acc32 = _acc.Allocate1D<int>(Math.Max(1, _dense.Max(d => (long)sequences * d.Spec.OutC)));
        _scores = _acc.Allocate1D<int>((long)sequences * model.ClassCount);
    }

    public QnnModel Model => _model;
    public int Sequences => _sequences;

    /// <summary>Starts sequence <paramref name="sequence"/> anew: its next step reads no state.</summary>
    public void Reset(int sequence) => _startedHost[sequence] = 0;

    public void Reset() => Array.Clear(_startedHost);

    /// <summary>One step of the first tokens.Length sequences; scores are tokens.Length · classes ints, sequence-major.</summary>
    public void Step(ReadOnlySpan<int> tokens, Span<int> scores)
    {
        int n = tokens.Length, classes = _model.ClassCount, vocabulary = _model.Layers[0].InC;
        if (n < 1 || n > _sequences) throw new ArgumentException($"1 to {_sequences} tokens, one per sequence");
        if (scores.Length < n * classes) throw new ArgumentException($"scores must hold {n} × {classes} ints");
        foreach (int t in tokens)
            if ((uint)t >= (uint)vocabulary) throw new ArgumentException($"token {t} is outside the vocabulary of {vocabulary}");
        _tokens.View.AsContiguous().SubView(0, n).CopyFromCPU(tokens);
        _started.View.AsContiguous().SubView(0, n).CopyFromCPU(_startedHost.AsSpan(0, n));
        _embed(n * _rowWords, _table.View, _tokens.View, _embedded.View, _rowWords);
        ArrayView<uint> x = _embedded.View;
        foreach (var r in _recurrent)
        {
            _gates(new Index2D(n, r.Shape.Gates), x, r.Hidden.View, r.Weights.View, _started.View, _accX.View, _accH.View, r.Shape);
            _units(n * r.Shape.HiddenWords, _accX.View, _accH.View, r.Gates.View, r.Flip.View, r.State.View, _started.View, r.Cells.View,
                r.Hidden.View, r.Next.View, r.Shape);
            (r.Hidden, r.Next) = (r.Next, r.Hidden);
            x = r.Hidden.View;
        }
        GpuKernels k = GpuKernels.For(_acc);
        for (int d = 0; d < _dense.Length; d++)
        {
            GpuLayer layer = _dense[d];
            LayerSpec l = layer.Spec;
            ConvShape s = layer.Shape;
            s.Rows = n;
            GemmShape g = layer.Gemm(n);
            k.Im2Col(s.Rows * s.InPlanes * s.K64, x, _rows.View, s);
            k.XnorGemm1(new Index2D(n, l.OutC), _rows.View.AsContiguous().Cast<uint>(), layer.Weights!.View.AsContiguous().Cast<uint>(), layer.WeightPop!.View, _acc32.View, g);
            if (l.Output == OutputKind.Thresholds)
            {
                var t = new ThresholdShape { Rows = n, Filters = l.OutC, Levels = l.Levels, OutBits = l.OutputBits, OutCW = l.OutChannelWords };
                k.ThresholdPack(n * l.OutChannelWords, _acc32.View, layer.Thresholds!.View, layer.Flip!.View, _denseOut[d].View, t);
            }
            else k.Scores(n * l.OutC, _acc32.View, layer.Offsets!.View, layer.Shifts!.View, _scores.View, l.OutC);
            x = _denseOut[d].View;
        }
        _acc.Synchronize();
        _scores.View.AsContiguous().SubView(0, n * classes).CopyToCPU(scores[..(n * classes)]);
        for (int s = 0; s < n; s++) _startedHost[s] = 1;
    }

    public void Dispose()
    {
        foreach (var r in _recurrent) r.Dispose();
        foreach (var d in _dense) d.Dispose();
        foreach (var b in _denseOut) b.Dispose();
        _table.Dispose(); _embedded.Dispose(); _tokens.Dispose(); _started.Dispose(); _accX.Dispose(); _accH.Dispose();
        _rows.Dispose(); _acc32.Dispose(); _scores.Dispose();
    }
}
