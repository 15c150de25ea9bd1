using System;
using Qnn.Format;

namespace Qnn.Runtime.Edge
{
    /// <summary>
    /// The reference of SPEC 1.10: a sequence model (Embedding, LSTM/GRU layers, Dense layers) stepped one token at a
    /// time, its recurrent state kept between steps. XOR, popcount, shifts, adds and compares only (the products of a
    /// gate level and a value by shift-and-add), in the C# subset that .NET nanoFramework 1.x runs. Every buffer is
    /// allocated in the constructor (<see cref="MemoryPlan"/>); <see cref="Step"/> allocates nothing.
    /// The gate accumulators and the Dense layers are the reference interpreter's own code (<see cref="Interpreter"/>).
    /// </summary>
    public sealed class SequenceInterpreter
    {
        private readonly QnnModel _model;
        private readonly MemoryPlan _plan;
        private readonly int _recurrentCount;
        private readonly LayerSpec _embedding;
        /// <summary>The Dense layers after the recurrent ones, as a model of their own; also lends its accumulator.</summary>
        private readonly Interpreter _tail;
        private readonly uint[] _embedded;
        private readonly RecurrentState[] _layers;
        private readonly int[] _accX;
        private readonly int[] _accH;
        private bool _started;

        /// <summary>One LSTM or GRU: its record, views of W and U as Dense records, its state and its step buffers.</summary>
        private sealed class RecurrentState
        {
            public readonly LayerSpec Spec;
            public readonly LayerSpec InputView, RecurrentView;
            public readonly LayerGeometry InputGeometry, RecurrentGeometry;
            /// <summary>h: the output levels of the last step, 1 × 1 × H of k planes (the next layer's input).</summary>
            public readonly uint[] Hidden;
            /// <summary>The step's new output, copied to <see cref="Hidden"/> once every unit has read the old one.</summary>
            public readonly uint[] Next;
            /// <summary>LSTM: the cell value c = 2·q_c − S of every unit.</summary>
            public readonly int[] Cell;
            /// <summary>Start in the gate thresholds of each gate's unit 0 (gates in order: LSTM i, f, g, o; GRU r, z, n).</summary>
            public readonly int[] GateStart;

            public RecurrentState(LayerSpec l)
            {
                Spec = l;
                InputView = View(l, l.InC);
                RecurrentView = View(l, l.OutC);
                InputGeometry = new LayerGeometry(InputView);
                RecurrentGeometry = new LayerGeometry(RecurrentView);
                Hidden = new uint[l.OutputWords];
                Next = new uint[l.OutputWords];
                Cell = new int[l.Kind == LayerKind.Lstm ? l.OutC : 0];
                GateStart = GateStarts(l);
            }
        }

        public SequenceInterpreter(QnnModel model)
        {
            if (model == null) throw new ArgumentNullException("model");
            LayerSpec[] layers = model.Layers;
            if (layers.Length < 2 || layers[0].Kind != LayerKind.Embedding)
                throw new ArgumentException("a sequence model starts with an Embedding (SPEC 1.10)");
            for (int i = 0; i < layers.Length; i++)
            {
                LayerSpec l = layers[i];
                bool missing = l.Weights == null
                    || (l.IsRecurrent && (l.Thresholds == null || l.Flip == null || l.StateThresholds == null))
                    || (l.Output == OutputKind.Thresholds && (l.Thresholds == null || l.Flip == null))
                    || (l.Output == OutputKind.Scores && (l.Offsets == null || l.Shifts == null));
                if (missing) throw new ArgumentException("layer " + i.ToString() + " has no data: read the model with its layers");
            }
            _model = model;
            _plan = MemoryPlan.Compute(model, false);
            _embedding = layers[0];
            int recurrent = 0;
            while (1 + recurrent < layers.Length && layers[1 + recurrent].IsRecurrent) recurrent++;
            _recurrentCount = recurrent;
            _embedded = new uint[_embedding.OutputWords];
            _layers = new RecurrentState[recurrent];
            int gates = 0;
            for (int r = 0; r < recurrent; r++)
            {
                LayerSpec l = layers[1 + r];
                if (l.GateChannels > gates) gates = l.GateChannels;
                _layers[r] = new RecurrentState(l);
            }
            _accX = new int[gates];
            _accH = new int[gates];
            int tailCount = layers.Length - 1 - recurrent;
            LayerSpec[] tail = new LayerSpec[tailCount];
            for (int i = 0; i < tailCount; i++) tail[i] = layers[1 + recurrent + i];
            QnnModel tailModel = new QnnModel();
            tailModel.InputHeight = 1;
            tailModel.InputWidth = 1;
            tailModel.InputChannels = tail[0].InC;
            tailModel.InputBits = tail[0].InputBits;
            tailModel.ClassCount = model.ClassCount;
            tailModel.Layers = tail;
            _tail = new Interpreter(tailModel);
        }

        /// <summary>A Dense record of F filters over a 1 × 1 × <paramref name="channels"/> input: the shape of W or U.</summary>
        private static LayerSpec View(LayerSpec l, int channels)
        {
            LayerSpec v = new LayerSpec();
            v.Kind = LayerKind.Dense;
            v.WeightBits = l.WeightBits;
            v.InputBits = l.InputBits;
            v.InputSigned = true;
            v.Output = OutputKind.Scores;
            v.InH = 1; v.InW = 1; v.InC = channels;
            v.OutH = 1; v.OutW = 1; v.OutC = l.GateChannels;
            v.KernelH = 1; v.KernelW = 1;
            return v;
        }

        /// <summary>The model this interpreter steps.</summary>
        public QnnModel Model { get { return _model; } }

        /// <summary>The memory this interpreter holds, computed before the first step.</summary>
        public MemoryPlan Plan { get { return _plan; } }

        /// <summary>True when the next step starts a sequence (no state yet).</summary>
        public bool AtStart { get { return !_started; } }

        /// <summary>The output level of unit <paramref name="unit"/> of model layer <paramref name="layer"/> (an LSTM/GRU) after the last step.</summary>
        public int HiddenLevel(int layer, int unit)
        {
            RecurrentState s = _layers[layer - 1];
            return LevelOf(s.Hidden, unit >> 5, 1u << (unit & 31), s.Spec.OutChannelWords, s.Spec.OutputBits);
        }

        /// <summary>The cell value c = 2·q_c − S of unit <paramref name="unit"/> of model layer <paramref name="layer"/> (an LSTM) after the last step.</summary>
        public int CellValue(int layer, int unit)
        {
            return _layers[layer - 1].Cell[unit];
        }

        /// <summary>Starts a new sequence: the next step reads no previous state (SPEC 1.10: "empty").</summary>
        public void Reset()
        {
            _started = false;
            for (int r = 0; r < _recurrentCount; r++)
            {
                RecurrentState s = _layers[r];
                Array.Clear(s.Hidden, 0, s.Hidden.Length);
                Array.Clear(s.Cell, 0, s.Cell.Length);
            }
        }

        /// <summary>
        /// One step on <paramref name="token"/> (0 ≤ token &lt; V): every layer once, the state carried to the next step.
        /// Fills <paramref name="scores"/>[0 … class count − 1] and returns the predicted token (lowest index among the
        /// highest scores).
        /// </summary>
        public int Step(int token, int[] scores)
        {
            if (token < 0 || token >= _embedding.InC)
                throw new ArgumentException("token " + token.ToString() + " is outside the vocabulary of " + _embedding.InC.ToString());
            if (scores == null || scores.Length < _model.ClassCount)
                throw new ArgumentException("scores must hold " + _model.ClassCount.ToString() + " ints");
            int row = _embedded.Length;
            Array.Copy(_embedding.Weights!, FormatMath.Mul(token, row), _embedded, 0, row);
            uint[] input = _embedded;
            for (int r = 0; r < _recurrentCount; r++)
            {
                RecurrentState s = _layers[r];
                Accumulate(s, input);
                if (s.Spec.Kind == LayerKind.Lstm) LstmUnits(s.Spec, s.GateStart, _accX, _accH, s.Cell, s.Next);
                else GruUnits(s.Spec, s.GateStart, _accX, _accH, _started, s.Hidden, s.Next);
                Array.Copy(s.Next, s.Hidden, s.Next.Length);
                input = s.Hidden;
            }
            _started = true;
            return _tail.RunOnPlanes(input, scores);
        }

        /// <summary>acc_x and acc_h of every gate channel (acc_h = 0 at a sequence's first step).</summary>
        private void Accumulate(RecurrentState s, uint[] input)
        {
            LayerSpec l = s.Spec;
            uint[] weights = l.Weights!;
            int f = l.GateChannels;
            int w = 0;
            int inputFilter = s.InputGeometry.FilterWords;
            for (int c = 0; c < f; c++)
            {
                _accX[c] = _tail.AccumulateVector(s.InputView, s.InputGeometry, input, weights, w);
                w += inputFilter;
            }
            if (!_started)
            {
                Array.Clear(_accH, 0, f);
                return;
            }
            int recurrentFilter = s.RecurrentGeometry.FilterWords;
            for (int c = 0; c < f; c++)
            {
                _accH[c] = _tail.AccumulateVector(s.RecurrentView, s.RecurrentGeometry, s.Hidden, weights, w);
                w += recurrentFilter;
            }
        }

        /// <summary>Where each gate's unit 0 starts in the gate thresholds (LSTM i, f, g, o; GRU r, z, n).</summary>
        public static int[] GateStarts(LayerSpec l)
        {
            int[] starts = new int[l.GateCount];
            for (int gate = 0; gate < starts.Length; gate++) starts[gate] = l.GateThresholdStart(FormatMath.Mul(gate, l.OutC));
            return starts;
        }

        /// <summary>
        /// The LSTM step of SPEC 1.10 for every unit, from the gate accumulators (acc_h all 0 at a sequence's first
        /// step): updates the cell values <paramref name="cell"/> (0 at the first step) and writes the output levels to
        /// <paramref name="next"/>. The one home of the rule: the fast path calls it too.
        /// </summary>
        public static void LstmUnits(LayerSpec l, int[] gateStart, int[] accX, int[] accH, int[] cell, uint[] next)
        {
            int h = l.OutC, g = l.GateLevels, levels = l.Levels, cells = l.CellLevels;
            int[] t = l.Thresholds!;
            int[] state = l.StateThresholds!;
            int tI = gateStart[0], tF = gateStart[1], tG = gateStart[2], tO = gateStart[3];
            int cF = h, cG = h << 1, cO = (h << 1) + h;
            int planeWords = l.OutChannelWords;
            Array.Clear(next, 0, l.OutputWords);
            uint bit = 1u;
            int word = 0;
            for (int u = 0; u < h; u++)
            {
                int qi = Interpreter.Level(accX[u] + accH[u], t, tI, g, l.IsFlipped(u));
                int qf = Interpreter.Level(accX[cF] + accH[cF], t, tF, g, l.IsFlipped(cF));
                int qg = Interpreter.Level(accX[cG] + accH[cG], t, tG, levels, l.IsFlipped(cG));
                int qo = Interpreter.Level(accX[cO] + accH[cO], t, tO, g, l.IsFlipped(cO));
                int cellInput = Product(qf, cell[u]) + Product(qi, (qg << 1) - levels);
                int qc = Interpreter.Level(cellInput, state, 0, cells, false);
                int c = (qc << 1) - cells;
                cell[u] = c;
                int qt = Interpreter.Level(c, state, cells, levels, false);
                int qh = Interpreter.Level(Product(qo, (qt << 1) - levels), state, cells + levels, levels, false);
                Interpreter.WriteChannelLevel(next, word, bit, planeWords, qh);
                tI += g; tF += g; tG += levels; tO += g;
                cF++; cG++; cO++;
                bit <<= 1;
                if (bit == 0) { bit = 1u; word++; }
            }
        }

        /// <summary>
        /// The GRU step of SPEC 1.10 for every unit, from the gate accumulators and the previous output levels
        /// <paramref name="hidden"/> (not read at a sequence's first step, <paramref name="started"/> false); writes the
        /// output levels to <paramref name="next"/>. The fast path calls it too.
        /// </summary>
        public static void GruUnits(LayerSpec l, int[] gateStart, int[] accX, int[] accH, bool started, uint[] hidden, uint[] next)
        {
            int h = l.OutC, gateBits = l.GateBits, g = l.GateLevels, levels = l.Levels;
            int[] t = l.Thresholds!;
            int[] state = l.StateThresholds!;
            int tR = gateStart[0], tZ = gateStart[1], tN = gateStart[2];
            int cZ = h, cN = h << 1;
            int planeWords = l.OutChannelWords;
            int k = l.OutputBits;
            Array.Clear(next, 0, l.OutputWords);
            uint bit = 1u;
            int word = 0;
            for (int u = 0; u < h; u++)
            {
                int qr = Interpreter.Level(accX[u] + accH[u], t, tR, g, l.IsFlipped(u));
                int qz = Interpreter.Level(accX[cZ] + accH[cZ], t, tZ, g, l.IsFlipped(cZ));
                int ax = accX[cN];
                int candidate = (ax << gateBits) - ax + Product(qr, accH[cN]);
                int qn = Interpreter.Level(candidate, t, tN, levels, l.IsFlipped(cN));
                int previous = started ? (LevelOf(hidden, word, bit, planeWords, k) << 1) - levels : 0;
                int mixed = Product(g - qz, (qn << 1) - levels) + Product(qz, previous);
                int qh = Interpreter.Level(mixed, state, 0, levels, false);
                Interpreter.WriteChannelLevel(next, word, bit, planeWords, qh);
                tR += g; tZ += g; tN += levels;
                cZ++; cN++;
                bit <<= 1;
                if (bit == 0) { bit = 1u; word++; }
            }
        }

        /// <summary>The level of one channel: bit j from plane j (SPEC 1.2).</summary>
        private static int LevelOf(uint[] planes, int at, uint bit, int planeWords, int bits)
        {
            int q = 0;
            for (int j = 0; j < bits; j++)
            {
                if ((planes[at] & bit) != 0) q |= 1 << j;
                at += planeWords;
            }
            return q;
        }

        /// <summary>
        /// prod(q, v) of SPEC 1.10: Σ over the bits j of the level q of v &lt;&lt; j, the exact q · v without a multiply.
        /// </summary>
        public static int Product(int q, int v)
        {
            int p = 0;
            while (q != 0)
            {
                if ((q & 1) != 0) p += v;
                q >>= 1;
                v <<= 1;
            }
            return p;
        }
    }
}
