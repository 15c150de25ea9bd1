using System;
using Qnn.Format;

namespace Qnn.Runtime.Edge
{
    /// <summary>
    /// The reference interpreter of format/SPEC.md: XOR/AND, popcount, shifts, adds and compares only, in the C#
    /// subset that .NET nanoFramework 1.x runs. It computes its <see cref="MemoryPlan"/> and allocates every buffer
    /// in the constructor; <see cref="Run"/> allocates nothing.
    /// Dense and Conv2D loop filter by filter (so that a streamed filter is read once), then over output pixels;
    /// each accumulator is the sum over kernel positions and plane pairs of popcounts shifted by i + j (SPEC 1.4).
    /// </summary>
    public sealed partial class Interpreter
    {
        private readonly QnnModel _model;
        private readonly ByteSource? _source;
        private readonly LayerGeometry[] _geometry;
        private readonly MemoryPlan _plan;
        private readonly int _imageBytes;
        private readonly int _inputShift;
        private readonly uint[] _bufferA;
        private readonly uint[] _bufferB;
        private readonly int[] _accumulators;
        private readonly uint[] _zeroPixel;
        // Streaming only: one filter's weights, its parameter words, its thresholds as ints, the file chunk.
        private readonly uint[] _filter;
        private readonly uint[] _parameters;
        private readonly int[] _thresholds;
        private readonly byte[] _chunk;

        /// <summary>Runs a model read with its layer data (<see cref="ModelReader.Read(ByteSource)"/>).</summary>
        public Interpreter(QnnModel model) : this(model, null, false) { }

        /// <summary>
        /// Runs a model whose layer data stays in <paramref name="source"/> (read with
        /// <c>ModelReader.Read(source, false)</c>): each filter's weights are read when it is computed.
        /// </summary>
        public Interpreter(QnnModel model, ByteSource source) : this(model, source, true) { }

        private Interpreter(QnnModel model, ByteSource? source, bool streamed)
        {
            if (model == null) throw new ArgumentNullException("model");
            if (streamed && source == null) throw new ArgumentNullException("source");
            LayerSpec[] layers = model.Layers;
            if (layers.Length == 0) throw new ArgumentException("the model has no layers");
            if (layers[0].Kind == LayerKind.Embedding) throw new ArgumentException("a sequence model runs on SequenceInterpreter (SPEC 1.10)");
            if (!streamed)
            {
                for (int i = 0; i < layers.Length; i++)
                {
                    LayerSpec l = layers[i];
                    if (l.Kind == LayerKind.MaxPool2D) continue;
                    bool missing = l.Weights == null
                        || (l.Output == OutputKind.Thresholds && (l.Thresholds == null || l.Flip == null))
                        || (l.Output == OutputKind.Scores && (l.Offsets == null || l.Shifts == null));
                    if (missing)
                        throw new ArgumentException("layer " + i.ToString() + " has no data: read the model with its layers, or stream it from its file");
                }
            }
            _model = model;
            _source = source;
            _plan = MemoryPlan.Compute(model, streamed);
            _geometry = new LayerGeometry[layers.Length];
            for (int i = 0; i < layers.Length; i++) _geometry[i] = new LayerGeometry(layers[i]);
            _imageBytes = FormatMath.Mul(FormatMath.Mul(model.InputHeight, model.InputWidth), model.InputChannels);
            _inputShift = 8 - model.InputBits;
            _bufferA = new uint[_plan.BufferAWords];
            _bufferB = new uint[_plan.BufferBWords];
            _accumulators = new int[_plan.AccumulatorWords];
            _zeroPixel = new uint[_plan.PaddingWords];
            _filter = new uint[_plan.FilterBufferWords];
            _parameters = new uint[_plan.ParameterWords];
            _thresholds = new int[streamed ? _plan.ParameterWords - 1 : 0];
            _chunk = new byte[streamed ? MemoryPlan.ChunkBytes : 0];
        }

        /// <summary>The memory this interpreter holds, computed before the first inference.</summary>
        public MemoryPlan Plan { get { return _plan; } }

        /// <summary>Called after every layer with its output, or null.</summary>
        public LayerObserver? Observer { get; set; }

        /// <summary>The model this interpreter runs.</summary>
        public QnnModel Model { get { return _model; } }

        /// <summary>
        /// Classifies one image of H·W·C 8-bit pixels (fed to the model as p >> (8 − input bits)); fills
        /// <paramref name="scores"/>[0 … class count − 1] and returns the predicted class: the lowest index among the
        /// highest scores (SPEC 1.7).
        /// </summary>
        public int Run(byte[] image, int[] scores)
        {
            if (image == null || image.Length != _imageBytes)
                throw new ArgumentException("the image must have H*W*C = " + _imageBytes.ToString() + " bytes");
            if (scores == null || scores.Length < _model.ClassCount)
                throw new ArgumentException("scores must hold " + _model.ClassCount.ToString() + " ints");
            LayerSpec[] layers = _model.Layers;
            LayerGeometry first = _geometry[0];
            InputPlanes.Write(image, _inputShift, _model.InputChannels, first.InChannelWords, first.InPixelWords, _bufferA, layers[0].InputWords);
            uint[] input = _bufferA, output = _bufferB;
            for (int i = 0; i < layers.Length; i++)
            {
                LayerSpec l = layers[i];
                LayerGeometry g = _geometry[i];
                if (l.Kind == LayerKind.MaxPool2D) MaxPoolLevels.Run(l, g, input, output);
                else RunWeighted(i, l, g, input, output, scores);
                LayerObserver? observer = Observer;
                if (observer != null)
                {
                    if (l.Output == OutputKind.Scores)
                    {
                        for (int c = 0; c < l.OutC; c++) output[c] = (uint)scores[c];
                        observer.OnLayer(i, output, l.OutC);
                    }
                    else observer.OnLayer(i, output, l.OutputWords);
                }
                uint[] swap = input; input = output; output = swap;
            }
            return ArgMax(scores, _model.ClassCount);
        }

        /// <summary>The lowest index among the highest scores.</summary>
        public static int ArgMax(int[] scores, int count)
        {
            int best = 0;
            for (int c = 1; c < count; c++)
                if (scores[c] > scores[best]) best = c;
            return best;
        }

        /// <summary>
        /// A dense or conv layer, filter by filter: each filter's weights and thresholds (or score offset and shift)
        /// come from the model in memory (<see cref="ResidentFilter"/>) or are read from the file one filter at a time
        /// (<see cref="StreamFilter"/>), then every output position gets its level bit (or the filter's score).
        /// </summary>
        private void RunWeighted(int index, LayerSpec l, LayerGeometry g, uint[] input, uint[] output, int[] scores)
        {
            bool thresholds = l.Output == OutputKind.Thresholds;
            if (thresholds) Array.Clear(output, 0, l.OutputWords);
            bool streamed = _source != null;
            uint[] weights = streamed ? _filter : l.Weights!;
            int[] t = streamed ? _thresholds : (thresholds ? l.Thresholds! : _thresholds);
            int weightBase = 0, thresholdBase = 0;
            uint bit = 1u;
            int outWord = 0;
            for (int f = 0; f < l.OutC; f++)
            {
                bool flip;
                int shift, offset;
                if (streamed) StreamFilter(l, g, f, weightBase, thresholdBase, thresholds, out flip, out shift, out offset);
                else ResidentFilter(l, f, thresholds, out flip, out shift, out offset);
                int wBase = streamed ? 0 : weightBase;
                int tBase = streamed ? 0 : thresholdBase;
                if (l.PoolH > 0) FilterPooled(l, g, input, weights, wBase, output, outWord, bit, t, tBase, flip, scores, f, shift, offset);
                else FilterWindows(l, g, input, weights, wBase, output, outWord, bit, t, tBase, flip, scores, f, shift, offset);
                weightBase += g.FilterWords;
                thresholdBase += g.Levels;
                bit <<= 1;
                if (bit == 0) { bit = 1u; outWord++; }
            }
        }

        /// <summary>Filter <paramref name="f"/>'s flip (thresholds) or offset and shift (scores) from the loaded model.</summary>
        private static void ResidentFilter(LayerSpec l, int f, bool thresholds, out bool flip, out int shift, out int offset)
        {
            flip = false;
            shift = 0;
            offset = 0;
            if (thresholds) flip = l.IsFlipped(f);
            else
            {
                offset = l.Offsets![f];
                shift = l.Shifts![f];
            }
        }

        /// <summary>
        /// Reads filter <paramref name="f"/> from the file (SPEC 1.8 order: all weights, then thresholds and flip words,
        /// or offsets and shifts) into <see cref="_filter"/> and <see cref="_thresholds"/>, through the 256-byte chunk.
        /// </summary>
        private void StreamFilter(LayerSpec l, LayerGeometry g, int f, int weightBase, int thresholdBase, bool thresholds,
            out bool flip, out int shift, out int offset)
        {
            flip = false;
            shift = 0;
            offset = 0;
            ByteSource source = _source!;
            int levels = g.Levels;
            ModelReader.ReadLayerWords(source, l, weightBase, _filter, 0, g.FilterWords, _chunk);
            int parameterBase = l.WeightWords;
            if (thresholds)
            {
                ModelReader.ReadLayerWords(source, l, parameterBase + thresholdBase, _parameters, 0, levels, _chunk);
                for (int k = 0; k < levels; k++) _thresholds[k] = (int)_parameters[k];
                ModelReader.ReadLayerWords(source, l, parameterBase + FormatMath.Mul(l.OutC, levels) + (f >> 5), _parameters, 0, 1, _chunk);
                flip = ((_parameters[0] >> (f & 31)) & 1u) != 0;
            }
            else
            {
                ModelReader.ReadLayerWords(source, l, parameterBase + f, _parameters, 0, 1, _chunk);
                ModelReader.ReadLayerWords(source, l, parameterBase + l.OutC + f, _parameters, 1, 1, _chunk);
                offset = (int)_parameters[0];
                shift = (int)_parameters[1];
            }
        }

        /// <summary>One filter with a fused max-pool: the whole accumulator map, then the maximum of each pool window.</summary>
        private void FilterPooled(LayerSpec l, LayerGeometry g, uint[] input, uint[] weights, int wBase, uint[] output, int outWord, uint bit,
            int[] t, int tBase, bool flip, int[] scores, int f, int shift, int offset)
        {
            bool thresholds = l.Output == OutputKind.Thresholds;
            ConvolveMap(l, g, input, weights, wBase, _accumulators);
            int rowOrigin = 0;
            int outPixel = outWord;
            for (int py = 0; py < l.OutH; py++)
            {
                int origin = rowOrigin;
                for (int px = 0; px < l.OutW; px++)
                {
                    int acc = PoolMax(_accumulators, origin, l.PoolH, l.PoolW, g.PoolRowWords);
                    if (thresholds) WriteLevel(output, outPixel, bit, g.OutChannelWords, Level(acc, t, tBase, g.Levels, flip));
                    else scores[f] = (acc << shift) + offset;
                    outPixel += g.OutPixelWords;
                    origin += g.PoolColumnStep;
                }
                rowOrigin += g.PoolRowStep;
            }
        }

        /// <summary>One filter without a pool: the accumulator of every window, its level bit (or the score) written at once.</summary>
        private void FilterWindows(LayerSpec l, LayerGeometry g, uint[] input, uint[] weights, int wBase, uint[] output, int outWord, uint bit,
            int[] t, int tBase, bool flip, int[] scores, int f, int shift, int offset)
        {
            bool thresholds = l.Output == OutputKind.Thresholds;
            int outPixel = outWord;
            int rowWindow = g.WindowStart;
            int iy0 = -l.PadTop;
            for (int oy = 0; oy < l.OutH; oy++)
            {
                int window = rowWindow;
                int ix0 = -l.PadLeft;
                for (int ox = 0; ox < l.OutW; ox++)
                {
                    int acc = l.InputSigned
                        ? AccumulateSigned(l, g, input, window, iy0, ix0, weights, wBase)
                        : AccumulateUnsigned(l, g, input, window, iy0, ix0, weights, wBase);
                    if (thresholds) WriteLevel(output, outPixel, bit, g.OutChannelWords, Level(acc, t, tBase, g.Levels, flip));
                    else scores[f] = (acc << shift) + offset;
                    outPixel += g.OutPixelWords;
                    window += g.WindowColumnStep;
                    ix0 += l.StrideW;
                }
                rowWindow += g.WindowRowStep;
                iy0 += l.StrideH;
            }
        }

        /// <summary>All conv accumulators of one filter, row-major ConvOutH × ConvOutW, for the fused pool.</summary>
        private void ConvolveMap(LayerSpec l, LayerGeometry g, uint[] input, uint[] weights, int wBase, int[] map)
        {
            int at = 0;
            int rowWindow = g.WindowStart;
            int iy0 = -l.PadTop;
            for (int oy = 0; oy < g.ConvOutH; oy++)
            {
                int window = rowWindow;
                int ix0 = -l.PadLeft;
                for (int ox = 0; ox < g.ConvOutW; ox++)
                {
                    map[at++] = l.InputSigned
                        ? AccumulateSigned(l, g, input, window, iy0, ix0, weights, wBase)
                        : AccumulateUnsigned(l, g, input, window, iy0, ix0, weights, wBase);
                    window += g.WindowColumnStep;
                    ix0 += l.StrideW;
                }
                rowWindow += g.WindowRowStep;
                iy0 += l.StrideH;
            }
        }

        private static int PoolMax(int[] map, int origin, int poolH, int poolW, int rowWords)
        {
            int best = map[origin];
            int row = origin;
            for (int dy = 0; dy < poolH; dy++)
            {
                for (int dx = 0; dx < poolW; dx++)
                {
                    int v = map[row + dx];
                    if (v > best) best = v;
                }
                row += rowWords;
            }
            return best;
        }

        /// <summary>
        /// Signed input (SPEC 1.4): acc = Σ (C − 2·popcount(A_j XOR W_i)) &lt;&lt; (i+j) = AgreeAll − 2·Σ popcount &lt;&lt; (i+j).
        /// Padding positions read the zero pixel (all bits 0, the lowest level).
        /// </summary>
        private int AccumulateSigned(LayerSpec l, LayerGeometry g, uint[] input, int window, int iy0, int ix0, uint[] weights, int wBase)
        {
            int cw = g.InChannelWords;
            int m = l.WeightBits, k = l.InputBits;
            int disagree = 0;
            int row = window;
            int position = wBase;
            for (int ky = 0; ky < l.KernelH; ky++)
            {
                int iy = iy0 + ky;
                bool rowInside = iy >= 0 && iy < l.InH;
                int pixel = row;
                for (int kx = 0; kx < l.KernelW; kx++)
                {
                    int ix = ix0 + kx;
                    uint[] a = input;
                    int aPixel = pixel;
                    if (!rowInside || ix < 0 || ix >= l.InW) { a = _zeroPixel; aPixel = 0; }
                    int wPlane = position;
                    for (int i = 0; i < m; i++)
                    {
                        int aPlane = aPixel;
                        for (int j = 0; j < k; j++)
                        {
                            int count = 0;
                            for (int w = 0; w < cw; w++)
                                count += Popcount.Count(a[aPlane + w] ^ weights[wPlane + w]);
                            disagree += count << (i + j);
                            aPlane += cw;
                        }
                        wPlane += g.WeightPlaneWords;
                    }
                    position += cw;
                    pixel += g.InPixelWords;
                }
                row += g.InRowWords;
            }
            return g.AgreeAll - (disagree << 1);
        }

        /// <summary>
        /// Unsigned input (SPEC 1.4): D_ij = 2·popcount(A_j AND W_i) − popcount(A_j), so
        /// acc = 2·Σ popcount(A_j AND W_i) &lt;&lt; (i+j) − (2^m − 1)·Σ popcount(A_j) &lt;&lt; j. Padding is 0 and adds nothing.
        /// </summary>
        private static int AccumulateUnsigned(LayerSpec l, LayerGeometry g, uint[] input, int window, int iy0, int ix0, uint[] weights, int wBase)
        {
            int cw = g.InChannelWords;
            int m = l.WeightBits, k = l.InputBits;
            int both = 0, ones = 0;
            int row = window;
            int position = wBase;
            for (int ky = 0; ky < l.KernelH; ky++)
            {
                int iy = iy0 + ky;
                if (iy < 0 || iy >= l.InH)
                {
                    row += g.InRowWords;
                    position += g.WeightRowWords;
                    continue;
                }
                int pixel = row;
                for (int kx = 0; kx < l.KernelW; kx++)
                {
                    int ix = ix0 + kx;
                    if (ix >= 0 && ix < l.InW)
                    {
                        int aPlane = pixel;
                        for (int j = 0; j < k; j++)
                        {
                            int count = 0;
                            for (int w = 0; w < cw; w++) count += Popcount.Count(input[aPlane + w]);
                            // A plane without a set bit adds nothing (dark image background is common): skip its products.
                            if (count != 0)
                            {
                                ones += count << j;
                                int wPlane = position;
                                for (int i = 0; i < m; i++)
                                {
                                    int product = 0;
                                    for (int w = 0; w < cw; w++)
                                        product += Popcount.Count(input[aPlane + w] & weights[wPlane + w]);
                                    both += product << (i + j);
                                    wPlane += g.WeightPlaneWords;
                                }
                            }
                            aPlane += cw;
                        }
                    }
                    position += cw;
                    pixel += g.InPixelWords;
                }
                row += g.InRowWords;
            }
            return (both << 1) - ((ones << m) - ones);
        }

        /// <summary>
        /// The output level of SPEC 1.6: the number of thresholds the accumulator reaches. Thresholds are sorted
        /// (ascending, or descending when flipped), so counting stops at the first one not reached.
        /// </summary>
        public static int Level(int acc, int[] t, int start, int levels, bool flip)
        {
            int q = 0;
            int end = start + levels;
            if (flip) { for (int l = start; l < end && acc <= t[l]; l++) q++; }
            else { for (int l = start; l < end && acc >= t[l]; l++) q++; }
            return q;
        }

        /// <summary>Writes level <paramref name="q"/> of one channel: bit j of q into plane j (SPEC 1.2).</summary>
        private static void WriteLevel(uint[] output, int at, uint bit, int planeWords, int q)
        {
            while (q != 0)
            {
                if ((q & 1) != 0) output[at] |= bit;
                q >>= 1;
                at += planeWords;
            }
        }
    }
}
