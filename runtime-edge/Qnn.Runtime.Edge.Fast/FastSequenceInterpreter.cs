using Qnn.Format;

namespace Qnn.Runtime.Edge.Fast;

/// <summary>
/// SPEC 1.10 on the fast path: a batch of sequences stepped together, one token each per step. The gate accumulators
/// (W·x and U·h of every sequence) and the Dense layers go through the SIMD popcount kernels (<see cref="PopcountBlock"/>),
/// 4 sequences per weight load; the units' level functions and shift-and-add products are the portable reference's
/// own (<see cref="SequenceInterpreter.LstmUnits"/>, <see cref="SequenceInterpreter.GruUnits"/>). Every step's scores
/// equal the portable <see cref="SequenceInterpreter"/>'s. One instance per thread; a step allocates nothing.
/// </summary>
public sealed class FastSequenceInterpreter
{
    private readonly QnnModel _model;
    private readonly LayerSpec _embedding;
    private readonly Recurrent[] _recurrent;
    private readonly FastLayer[] _dense;
    private readonly int _sequences;
    private readonly bool[] _started;
    /// <summary>Per sequence: the embedded token; per Dense layer and sequence: its output levels (none for scores) and accumulators.</summary>
    private readonly uint[][] _embedded;
    private readonly uint[][][] _denseOut;
    private readonly int[][] _denseAcc;
    private readonly ulong[] _patch;
    private readonly int _patchStride;
    private readonly int[] _sums;
    private readonly int _sumStride;

    private sealed class Recurrent
    {
        public readonly LayerSpec Spec;
        /// <summary>W and U as Dense layers of F filters over 1 × 1 × X and 1 × 1 × H, repacked for the kernels.</summary>
        public readonly FastLayer InputView, RecurrentView;
        public readonly int[] GateStart;
        /// <summary>Per sequence: h (output levels), the step's new output, c (LSTM), acc_x and acc_h.</summary>
        public readonly uint[][] Hidden, Next;
        public readonly int[][] Cell, AccX, AccH;

        public Recurrent(LayerSpec l, int sequences)
        {
            Spec = l;
            var weights = l.Weights ?? throw new ArgumentException("the fast path needs the model's layer data (ModelReader.Read with layers)");
            int split = l.InputWeightWords;
            InputView = new FastLayer(View(l, l.InC, weights[..split]));
            RecurrentView = new FastLayer(View(l, l.OutC, weights[split..]));
            GateStart = SequenceInterpreter.GateStarts(l);
            Hidden = Enumerable.Range(0, sequences).Select(_ => new uint[l.OutputWords]).ToArray();
            Next = Enumerable.Range(0, sequences).Select(_ => new uint[l.OutputWords]).ToArray();
            Cell = Enumerable.Range(0, sequences).Select(_ => new int[l.Kind == LayerKind.Lstm ? l.OutC : 0]).ToArray();
            int padded = (l.GateChannels + 15) & ~15;
            AccX = Enumerable.Range(0, sequences).Select(_ => new int[padded]).ToArray();
            AccH = Enumerable.Range(0, sequences).Select(_ => new int[padded]).ToArray();
        }

        private static LayerSpec View(LayerSpec l, int channels, uint[] weights)
        {
            var v = LayerFactory.Dense(1, 1, channels, l.GateChannels, l.WeightBits, l.InputBits, true, OutputKind.Scores, 0);
            v.Weights = weights;
            v.Offsets = new int[l.GateChannels];
            v.Shifts = new int[l.GateChannels];
            return v;
        }
    }

    /// <summary>A batch of <paramref name="sequences"/> sequences of a sequence model, every one empty.</summary>
    public FastSequenceInterpreter(QnnModel model, int sequences = 1, FastKernel kernel = FastKernel.Auto)
    {
        ArgumentNullException.ThrowIfNull(model);
        var layers = model.Layers;
        if (layers.Length < 2 || layers[0].Kind != LayerKind.Embedding) throw new ArgumentException("a sequence model starts with an Embedding (SPEC 1.10)");
        if (sequences < 1) throw new ArgumentException("sequences must be at least 1");
        _model = model;
        _sequences = sequences;
        Kernel = PopcountBlock.Resolve(kernel);
        _embedding = layers[0];
        if (_embedding.Weights == null) throw new ArgumentException("the fast path needs the model's layer data (ModelReader.Read with layers)");
        _recurrent = layers.Skip(1).TakeWhile(l => l.IsRecurrent).Select(l => new Recurrent(l, sequences)).ToArray();
        _dense = layers.Skip(1 + _recurrent.Length).Select(l => new FastLayer(l)).ToArray();
        _started = new bool[sequences];
        _embedded = Enumerable.Range(0, sequences).Select(_ => new uint[_embedding.OutputWords]).ToArray();
        _denseOut = _dense.Select(d => Enumerable.Range(0, sequences).Select(_ => new uint[d.Spec.OutputWords]).ToArray()).ToArray();
        _denseAcc = Enumerable.Range(0, sequences).Select(_ => new int[_dense.Max(d => d.Spec.OutC)]).ToArray();
        var views = _recurrent.SelectMany(r => new[] { r.InputView, r.RecurrentView }).Concat(_dense).ToArray();
        _patchStride = views.Max(v => v.Spec.InputBits * v.PatchWords) + 1;
        _patch = new ulong[PopcountBlock.RowBlock * _patchStride];
        _sumStride = (views.Max(v => v.Blocks * PopcountBlock.BlockFilters) + 15) & ~15;
        _sums = new int[PopcountBlock.RowBlock * _sumStride];
    }

    public QnnModel Model => _model;

    /// <summary>Sequences stepped together.</summary>
    public int Sequences => _sequences;

    /// <summary>The popcount kernel in use.</summary>
    public FastKernel Kernel { get; }

    /// <summary>Starts sequence <paramref name="sequence"/> anew: its next step reads no state (SPEC 1.10).</summary>
    public void Reset(int sequence)
    {
        _started[sequence] = false;
        foreach (var r in _recurrent)
        {
            Array.Clear(r.Hidden[sequence]);
            Array.Clear(r.Cell[sequence]);
        }
    }

    /// <summary>Starts every sequence anew.</summary>
    public void Reset()
    {
        for (int s = 0; s < _sequences; s++) Reset(s);
    }

    /// <summary>One sequence (the batch's first): steps <paramref name="token"/>, fills the scores, returns the predicted token.</summary>
    public int Step(int token, int[] scores)
    {
        Span<int> one = stackalloc int[1];
        one[0] = token;
        Step(one, scores);
        return Prediction.ArgMax(scores.AsSpan(0, _model.ClassCount));
    }

    /// <summary>
    /// One step of the first <paramref name="tokens"/>.Length sequences (token s to sequence s); scores are
    /// tokens.Length · classes ints, sequence-major.
    /// </summary>
    public void Step(ReadOnlySpan<int> tokens, Span<int> scores)
    {
        int count = tokens.Length, classes = _model.ClassCount, vocabulary = _embedding.InC;
        if (count < 1 || count > _sequences) throw new ArgumentException($"1 to {_sequences} tokens, one per sequence");
        if (scores.Length < count * classes) throw new ArgumentException($"scores must hold {count} × {classes} ints");
        int row = _embedding.OutputWords;
        for (int s = 0; s < count; s++)
        {
            int token = tokens[s];
            if ((uint)token >= (uint)vocabulary) throw new ArgumentException($"token {token} is outside the vocabulary of {vocabulary}");
            Array.Copy(_embedding.Weights!, token * row, _embedded[s], 0, row);
        }
        uint[][] inputs = _embedded;
        foreach (var r in _recurrent)
        {
            Accumulate(r.InputView, inputs, count, r.AccX, null);
            Accumulate(r.RecurrentView, r.Hidden, count, r.AccH, _started);
            for (int s = 0; s < count; s++)
            {
                if (!_started[s]) Array.Clear(r.AccH[s]);
                if (r.Spec.Kind == LayerKind.Lstm) SequenceInterpreter.LstmUnits(r.Spec, r.GateStart, r.AccX[s], r.AccH[s], r.Cell[s], r.Next[s]);
                else SequenceInterpreter.GruUnits(r.Spec, r.GateStart, r.AccX[s], r.AccH[s], _started[s], r.Hidden[s], r.Next[s]);
            }
            for (int s = 0; s < count; s++) Array.Copy(r.Next[s], r.Hidden[s], r.Next[s].Length);
            inputs = r.Hidden;
        }
        for (int s = 0; s < count; s++) _started[s] = true;
        for (int d = 0; d < _dense.Length; d++)
        {
            var layer = _dense[d];
            var l = layer.Spec;
            Accumulate(layer, inputs, count, _denseAcc, null);
            for (int s = 0; s < count; s++)
            {
                var acc = _denseAcc[s];
                if (l.Output == OutputKind.Scores)
                {
                    for (int f = 0; f < l.OutC; f++) scores[s * classes + f] = (acc[f] << layer.Shifts[f]) + layer.Offsets[f];
                    continue;
                }
                // A hidden Dense layer: levels by SPEC 1.6 into the planes of a 1 × 1 output (SPEC 1.2).
                var output = _denseOut[d][s];
                Array.Clear(output);
                int levels = layer.Geometry.Levels, planeWords = layer.Geometry.OutChannelWords;
                for (int f = 0; f < l.OutC; f++)
                {
                    int q = Interpreter.Level(acc[f], layer.Thresholds, f * levels, levels, layer.Flipped[f]);
                    for (int at = f >> 5; q != 0; q >>= 1, at += planeWords)
                        if ((q & 1) != 0) output[at] |= 1u << (f & 31);
                }
            }
            inputs = _denseOut[d];
        }
    }

    /// <summary>
    /// acc[s][f] of filters f of <paramref name="view"/> for sequences s &lt; count (skipping those
    /// <paramref name="started"/> marks not started): 4 sequences' patches against every filter block per kernel call, then AgreeAll − 2·disagreements.
    /// </summary>
    private void Accumulate(FastLayer view, uint[][] inputs, int count, int[][] acc, bool[]? started)
    {
        var l = view.Spec;
        int filters = l.OutC, agreeAll = view.Geometry.AgreeAll;
        Span<int> which = stackalloc int[PopcountBlock.RowBlock];
        for (int s0 = 0; s0 < count; s0 += PopcountBlock.RowBlock)
        {
            int rows = 0;
            for (int s = s0; s < Math.Min(count, s0 + PopcountBlock.RowBlock); s++)
            {
                if (started != null && !started[s]) continue;
                BitPatch.Build(l, view.Geometry, inputs[s], 0, 0, view.PatchWords, _patch.AsSpan(rows * _patchStride));
                which[rows++] = s;
            }
            if (rows == 0) continue;
            PopcountBlock.Rows<XorOp>(Kernel, _patch, rows, _patchStride, l.InputBits, view.Weights, view.Blocks, l.WeightBits,
                view.PatchWords, _sums, _sumStride);
            for (int r = 0; r < rows; r++)
            {
                var sums = _sums.AsSpan(r * _sumStride, filters);
                var target = acc[which[r]];
                for (int f = 0; f < filters; f++) target[f] = agreeAll - (sums[f] << 1);
            }
        }
    }
}
