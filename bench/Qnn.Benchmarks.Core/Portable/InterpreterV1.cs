using System;
using Qnn.Format;
using Qnn.Runtime.Edge;

namespace Qnn.Benchmarks.Portable.V1
{
    /// <summary>
    /// Version 1 of the portable interpreter, frozen as it was on 2026-12-02 (commit c218a2b) before it was made cheap
    /// on IL interpreters: every layer through bit-planes, one SWAR popcount call per word. Kept beside the current
    /// <see cref="Interpreter"/> (as llm.c keeps kernel versions side by side) so that `qnn bench portable` counts the
    /// IL instructions both execute on the same model and images, in the same run, and checks they give the same scores.
    /// Its popcount, input planes and standalone max-pool are frozen copies too.
    /// </summary>
    public sealed class InterpreterV1
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
        public InterpreterV1(QnnModel model) : this(model, null, false) { }

        /// <summary>
        /// Runs a model whose layer data stays in <paramref name="source"/> (read with
        /// <c>ModelReader.Read(source, false)</c>): each filter's weights are read when it is computed.
        /// </summary>
        public InterpreterV1(QnnModel model, ByteSource source) : this(model, source, true) { }

        private InterpreterV1(QnnModel model, ByteSource? source, bool streamed)
        {
            if (model == null) throw new ArgumentNullException("model");
            if (streamed && source == null) throw new ArgumentNullException("source");
            LayerSpec[] layers = model.Layers;
            if (layers.Length == 0) throw new ArgumentException("the model has no layers");
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
            _bufferA = new uint[Math.Max(_plan.BufferAWords, layers[0].InputWords)];
            _bufferB = new uint[_plan.BufferBWords];
            _accumulators = new int[_plan.AccumulatorWords];
            _zeroPixel = new uint[PaddingWords(layers)];
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
            WriteInputPlanes(image, _inputShift, _model.InputChannels, first.InChannelWords, first.InPixelWords, _bufferA, layers[0].InputWords);
            uint[] input = _bufferA, output = _bufferB;
            for (int i = 0; i < layers.Length; i++)
            {
                LayerSpec l = layers[i];
                LayerGeometry g = _geometry[i];
                if (l.Kind == LayerKind.MaxPool2D) MaxPool(l, g, input, output);
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
                                count += Popcount(a[aPlane + w] ^ weights[wPlane + w]);
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
                            for (int w = 0; w < cw; w++) count += Popcount(input[aPlane + w]);
                            // A plane without a set bit adds nothing (dark image background is common): skip its products.
                            if (count != 0)
                            {
                                ones += count << j;
                                int wPlane = position;
                                for (int i = 0; i < m; i++)
                                {
                                    int product = 0;
                                    for (int w = 0; w < cw; w++)
                                        product += Popcount(input[aPlane + w] & weights[wPlane + w]);
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
        /// <summary>Version 1's zero pixel: the largest k · CW of a padded layer with signed input.</summary>
        private static int PaddingWords(LayerSpec[] layers)
        {
            int padding = 0;
            foreach (LayerSpec l in layers)
            {
                if (l.Kind == LayerKind.MaxPool2D) continue;
                bool padded = l.PadTop != 0 || l.PadLeft != 0 || l.PadBottom != 0 || l.PadRight != 0;
                int pixel = l.InputSigned && padded ? FormatMath.Mul(l.InputBits, l.InChannelWords) : 0;
                if (pixel > padding) padding = pixel;
            }
            return padding;
        }

        private static int Popcount(uint x)
        {
            x = x - ((x >> 1) & 0x55555555u);
            x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
            x = (x + (x >> 4)) & 0x0F0F0F0Fu;
            x = x + (x >> 8);
            x = x + (x >> 16);
            return (int)(x & 0x3Fu);
        }

        private static void WriteInputPlanes(byte[] image, int shift, int channels, int channelWords, int pixelWords, uint[] words, int totalWords)
        {
            Array.Clear(words, 0, totalWords);
            int at = 0;
            for (int pixelStart = 0; pixelStart < totalWords; pixelStart += pixelWords)
            {
                for (int c = 0; c < channels; c++)
                {
                    int value = image[at++] >> shift;
                    int word = pixelStart + (c >> 5);
                    uint bit = 1u << (c & 31);
                    while (value != 0)
                    {
                        if ((value & 1) != 0) words[word] |= bit;
                        value >>= 1;
                        word += channelWords;
                    }
                }
            }
        }

        private static void MaxPool(LayerSpec l, LayerGeometry g, uint[] input, uint[] output)
        {
            int cw = g.InChannelWords;
            int pixelWords = g.InPixelWords;
            int topPlane = pixelWords - cw;
            int outPixel = 0;
            int rowOrigin = 0;
            for (int py = 0; py < l.OutH; py++)
            {
                int origin = rowOrigin;
                for (int px = 0; px < l.OutW; px++)
                {
                    Array.Copy(input, origin, output, outPixel, pixelWords);
                    int row = origin;
                    for (int dy = 0; dy < l.PoolH; dy++)
                    {
                        int at = row;
                        for (int dx = 0; dx < l.PoolW; dx++)
                        {
                            if (dy != 0 || dx != 0)
                            {
                                if (l.InputBits == 1)
                                {
                                    for (int w = 0; w < cw; w++) output[outPixel + w] |= input[at + w];
                                }
                                else
                                {
                                    for (int w = 0; w < cw; w++) Merge(output, outPixel + w, input, at + w, topPlane, cw);
                                }
                            }
                            at += pixelWords;
                        }
                        row += g.PoolRowWords;
                    }
                    outPixel += pixelWords;
                    origin += g.PoolColumnStep;
                }
                rowOrigin += g.PoolRowStep;
            }
        }

        private static void Merge(uint[] best, int bestAt, uint[] candidate, int candidateAt, int topPlane, int planeWords)
        {
            uint greater = 0, equal = 0xFFFFFFFFu;
            for (int j = topPlane; j >= 0; j -= planeWords)
            {
                uint a = best[bestAt + j], b = candidate[candidateAt + j];
                greater |= equal & b & ~a;
                equal &= ~(a ^ b);
            }
            if (greater == 0) return;
            for (int j = topPlane; j >= 0; j -= planeWords)
            {
                uint a = best[bestAt + j], b = candidate[candidateAt + j];
                best[bestAt + j] = (a & ~greater) | (b & greater);
            }
        }
    }
}
