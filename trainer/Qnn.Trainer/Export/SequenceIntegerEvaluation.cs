using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using Qnn.Format;
using Qnn.Trainer.Sequence;

namespace Qnn.Trainer.Export;

/// <summary>
/// The trainer's own integer evaluation of an exported sequence model, step by step as SPEC 1.10 states it: weights
/// and embedding rows read back from their bit-planes as odd integers, gate accumulators as integer dot products,
/// every level by counting thresholds (flipped where the flip bit says), the cell and output products as integers,
/// scores (acc &lt;&lt; shift) + offset. It shares no code with the training graph's forward pass nor with runtime-edge,
/// so equal perplexities check the fold and the packing from the other side; its logits are score_scale · score.
/// </summary>
public sealed class SequenceIntegerEvaluation
{
    private sealed class Recurrent
    {
        public required LayerSpec Spec;
        public required int X, H, F, M, L, G, S;
        public required int[] W, U;     // odd values [f][x], [f][h]
        public required int[] Start;    // first gate threshold of each channel
    }

    private readonly QnnModel model;
    private readonly int vocab, embed, levels;
    private readonly int[] embedding;     // odd values [x][e]
    private readonly List<Recurrent> layers = [];
    private readonly int[] outW;          // odd values [c][h]
    private readonly LayerSpec dense;

    public SequenceIntegerEvaluation(QnnModel model)
    {
        this.model = model;
        var e = model.Layers[0];
        if (e.Kind != LayerKind.Embedding) throw new ArgumentException("not a sequence model: layer 0 is not an Embedding");
        vocab = e.InC;
        embed = e.OutC;
        levels = (1 << e.OutputBits) - 1;
        embedding = Unpack(e.Weights!, 0, vocab, embed, e.OutputBits);
        for (int i = 1; i < model.Layers.Length && model.Layers[i].IsRecurrent; i++)
        {
            var l = model.Layers[i];
            int f = l.GateChannels, m = l.WeightBits;
            int xw = (l.InC + 31) / 32;
            var start = new int[f];
            for (int c = 0, at = 0; c < f; c++)
            {
                start[c] = at;
                at += c / l.OutC == 2 ? l.Levels : l.GateLevels;
            }
            layers.Add(new Recurrent
            {
                Spec = l, X = l.InC, H = l.OutC, F = f, M = (1 << m) - 1, L = l.Levels, G = l.GateLevels, S = l.Kind == LayerKind.Lstm ? l.CellLevels : 0,
                W = Unpack(l.Weights!, 0, f, l.InC, m), U = Unpack(l.Weights!, f * m * xw, f, l.OutC, m), Start = start,
            });
        }
        dense = model.Layers[^1];
        if (model.Layers.Length != layers.Count + 2 || dense.Kind != LayerKind.Dense || dense.Output != OutputKind.Scores)
            throw new ArgumentException("the trainer's integer evaluation reads Embedding, LSTM/GRU layers and one Dense with scores");
        outW = Unpack(dense.Weights!, 0, dense.OutC, dense.InC, dense.WeightBits);
        ScoreScale = float.Parse(model.GetMetadata("score_scale") ?? throw new ArgumentException("the model has no score_scale metadata"),
            NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    public float ScoreScale { get; }

    /// <summary>Odd values v = 2q − (2^b − 1) of <paramref name="rows"/> rows of <paramref name="cols"/> channels, from words [row][plane][word].</summary>
    private static int[] Unpack(uint[] words, int offset, int rows, int cols, int bits)
    {
        int cw = (cols + 31) / 32, top = (1 << bits) - 1;
        var v = new int[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                int q = 0;
                for (int j = 0; j < bits; j++)
                    if ((words[offset + (r * bits + j) * cw + (c >> 5)] >> (c & 31) & 1) != 0) q |= 1 << j;
                v[r * cols + c] = 2 * q - top;
            }
        return v;
    }

    private static int Dot(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        var va = MemoryMarshal.Cast<int, Vector<int>>(a);
        var vb = MemoryMarshal.Cast<int, Vector<int>>(b);
        var acc = Vector<int>.Zero;
        for (int i = 0; i < va.Length; i++) acc += va[i] * vb[i];
        int s = Vector.Sum(acc);
        for (int i = va.Length * Vector<int>.Count; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>SPEC 1.6's level function: thresholds counted, flipped where asked.</summary>
    private static int Level(long a, int[] t, int start, int count, bool flip)
    {
        int q = 0;
        for (int l = 0; l < count; l++)
            if (flip ? a <= t[start + l] : a >= t[start + l]) q++;
        return q;
    }

    /// <summary>One sequence's state: every layer's output values h and (LSTM) cell values c; empty at the start.</summary>
    public sealed class Stream
    {
        private readonly SequenceIntegerEvaluation e;
        internal readonly int[][] H, C;
        internal bool Started;
        internal readonly int[] accX, accH, x;

        internal Stream(SequenceIntegerEvaluation e)
        {
            this.e = e;
            H = e.layers.Select(l => new int[l.H]).ToArray();
            C = e.layers.Select(l => new int[l.H]).ToArray();
            int f = e.layers.Count == 0 ? 0 : e.layers.Max(l => l.F);
            accX = new int[f];
            accH = new int[f];
            x = new int[Math.Max(e.embed, e.layers.Count == 0 ? 0 : e.layers.Max(l => l.H))];
        }

        /// <summary>One step on <paramref name="token"/>: the scores of the next token.</summary>
        public void Step(int token, int[] scores) => e.Step(this, token, scores);

        public void Reset()
        {
            foreach (var h in H) Array.Clear(h);
            foreach (var c in C) Array.Clear(c);
            Started = false;
        }
    }

    public Stream NewStream() => new(this);

    private void Step(Stream s, int token, int[] scores)
    {
        ReadOnlySpan<int> input = embedding.AsSpan(token * embed, embed);
        for (int li = 0; li < layers.Count; li++)
        {
            var l = layers[li];
            var t = l.Spec.Thresholds!;
            var st = l.Spec.StateThresholds!;
            var hPrev = s.H[li];
            for (int f = 0; f < l.F; f++)
            {
                s.accX[f] = Dot(l.W.AsSpan(f * l.X, l.X), input);
                s.accH[f] = s.Started ? Dot(l.U.AsSpan(f * l.H, l.H), hPrev) : 0;
            }
            var hNext = new int[l.H];
            int h = l.H;
            for (int u = 0; u < h; u++)
            {
                if (l.Spec.Kind == LayerKind.Lstm)
                {
                    int Gate(int ch, int n) => Level(s.accX[ch] + s.accH[ch], t, l.Start[ch], n, l.Spec.IsFlipped(ch));
                    int qi = Gate(u, l.G), qf = Gate(h + u, l.G), qg = Gate(2 * h + u, l.L), qo = Gate(3 * h + u, l.G);
                    long pc = (long)qf * s.C[li][u] + (long)qi * (2 * qg - l.L);
                    int c = 2 * Level(pc, st, 0, l.S, false) - l.S;
                    s.C[li][u] = c;
                    int vt = 2 * Level(c, st, l.S, l.L, false) - l.L;
                    hNext[u] = 2 * Level((long)qo * vt, st, l.S + l.L, l.L, false) - l.L;
                }
                else
                {
                    int qr = Level(s.accX[u] + s.accH[u], t, l.Start[u], l.G, l.Spec.IsFlipped(u));
                    int qz = Level(s.accX[h + u] + s.accH[h + u], t, l.Start[h + u], l.G, l.Spec.IsFlipped(h + u));
                    int n = 2 * h + u;
                    long big = (long)l.G * s.accX[n] + (long)qr * s.accH[n];
                    int vn = 2 * Level(big, t, l.Start[n], l.L, l.Spec.IsFlipped(n)) - l.L;
                    int vh = s.Started ? hPrev[u] : 0;
                    hNext[u] = 2 * Level((long)(l.G - qz) * vn + (long)qz * vh, st, 0, l.L, false) - l.L;
                }
            }
            hNext.CopyTo(hPrev, 0);
            input = hPrev;
        }
        s.Started = true;
        for (int c = 0; c < dense.OutC; c++)
            scores[c] = (Dot(outW.AsSpan(c * dense.InC, dense.InC), input) << dense.Shifts![c]) + dense.Offsets![c];
    }

    /// <summary>
    /// Mean loss and accuracy of the integer model on <paramref name="tokens"/> read as <see cref="TokenStreams"/> of
    /// <paramref name="streams"/> streams (each starting empty), with every prediction's loss in prediction order.
    /// </summary>
    public (double Loss, double Accuracy) Evaluate(int[] tokens, int streams, out double[] losses)
    {
        var ts = new TokenStreams(tokens, streams);
        var all = new double[ts.Predictions];
        var correct = new bool[ts.Predictions];
        Parallel.For(0, streams, b =>
        {
            var s = NewStream();
            var scores = new int[vocab];
            var logits = new float[vocab];
            var (inputs, targets) = ts.Stream(b);
            for (int i = 0; i < ts.Length; i++)
            {
                Step(s, inputs[i], scores);
                for (int c = 0; c < vocab; c++) logits[c] = ScoreScale * scores[c];
                all[(long)i * streams + b] = LmLoss.RowLoss(logits, targets[i], out correct[(long)i * streams + b], out _, out _);
            }
        });
        losses = all;
        return (LmLoss.Mean(all), (double)correct.Count(c => c) / Math.Max(1, correct.Length));
    }
}
