using System;
using Qnn.Format;

namespace Qnn.Runtime.Edge
{
    /// <summary>
    /// The reference interpreter of format/SPEC.md: XOR/AND, popcount, shifts, adds and compares only, in the C#
    /// subset that .NET nanoFramework 1.x runs. It computes its <see cref="MemoryPlan"/> and allocates every buffer
    /// in the constructor; <see cref="Run"/> allocates nothing.
    /// Dense and Conv2D loop filter by filter (so that a streamed filter is read once), then over output pixels.
    /// The first layer reads the image bytes (<see cref="ImageLayer"/>: adds of lit pixels); every later layer's
    /// accumulator is the sum over plane pairs of popcounts shifted by i + j (SPEC 1.4), a window row at a time
    /// (<see cref="DenseAccumulator"/> for one pixel). Written for IL interpreters such as nanoCLR, where cost is the
    /// number of IL instructions executed (`qnn bench portable` counts them).
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
        // The first layer's lit pixels when it has one window (ImageLayer.Gather), their count and sum of values.
        private readonly int[] _lit;
        private int _litCount, _litSum;
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
            _lit = new int[_plan.LitWords];
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
            // The first layer reads the image itself (ImageLayer); buffer A first receives layer 1's output.
            uint[] input = _bufferA, output = _bufferB;
            for (int i = 0; i < layers.Length; i++)
            {
                LayerSpec l = layers[i];
                LayerGeometry g = _geometry[i];
                if (l.Kind == LayerKind.MaxPool2D) MaxPoolLevels.Run(l, g, input, output);
                else RunWeighted(l, g, image, input, output, scores);
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
        private void RunWeighted(LayerSpec l, LayerGeometry g, byte[] image, uint[] input, uint[] output, int[] scores)
        {
            bool thresholds = l.Output == OutputKind.Thresholds;
            if (thresholds) Array.Clear(output, 0, l.OutputWords);
            if (!l.InputSigned && _lit.Length != 0) _litCount = ImageLayer.Gather(l, g, image, _inputShift, _lit, out _litSum);
            bool streamed = _source != null;
            uint[] weights = streamed ? _filter : l.Weights!;
            int[] t = streamed ? _thresholds : (thresholds ? l.Thresholds! : _thresholds);
            int weightBase = 0, thresholdBase = 0;
            int filters = l.OutC, filterWords = g.FilterWords, levels = g.Levels, outChannelWords = g.OutChannelWords;
            // A layer with one window and no pool (a Dense layer): its accumulator is computed here, without the window loops.
            bool single = g.ConvOutH == 1 && g.ConvOutW == 1 && l.PoolH == 0;
            uint bit = 1u;
            int outWord = 0;
            for (int f = 0; f < filters; f++)
            {
                bool flip;
                int shift, offset;
                if (streamed) StreamFilter(l, g, f, weightBase, thresholdBase, thresholds, out flip, out shift, out offset);
                else ResidentFilter(l, f, thresholds, out flip, out shift, out offset);
                int wBase = streamed ? 0 : weightBase;
                int tBase = streamed ? 0 : thresholdBase;
                if (single)
                {
                    int acc = Accumulate(l, g, image, input, g.WindowStart, g.ImageWindowStart, -l.PadTop, -l.PadLeft, weights, wBase);
                    if (thresholds) WriteLevel(output, outWord, bit, outChannelWords, Level(acc, t, tBase, levels, flip));
                    else scores[f] = (acc << shift) + offset;
                }
                else if (l.PoolH > 0) FilterPooled(l, g, image, input, weights, wBase, output, outWord, bit, t, tBase, flip, scores, f, shift, offset);
                else FilterWindows(l, g, image, input, weights, wBase, output, outWord, bit, t, tBase, flip, scores, f, shift, offset);
                weightBase += filterWords;
                thresholdBase += levels;
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
        private void FilterPooled(LayerSpec l, LayerGeometry g, byte[] image, uint[] input, uint[] weights, int wBase, uint[] output, int outWord, uint bit,
            int[] t, int tBase, bool flip, int[] scores, int f, int shift, int offset)
        {
            bool thresholds = l.Output == OutputKind.Thresholds;
            int[] map = _accumulators;
            ConvolveMap(l, g, image, input, weights, wBase, map);
            int outH = l.OutH, outW = l.OutW, poolH = l.PoolH, poolW = l.PoolW, mapRow = g.PoolRowWords;
            int outPixelWords = g.OutPixelWords, outChannelWords = g.OutChannelWords, levels = g.Levels;
            int columnStep = g.PoolColumnStep, rowStep = g.PoolRowStep;
            int rowOrigin = 0;
            int outPixel = outWord;
            for (int py = 0; py < outH; py++)
            {
                int origin = rowOrigin;
                for (int px = 0; px < outW; px++)
                {
                    int acc = PoolMax(map, origin, poolH, poolW, mapRow);
                    if (thresholds) WriteLevel(output, outPixel, bit, outChannelWords, Level(acc, t, tBase, levels, flip));
                    else scores[f] = (acc << shift) + offset;
                    outPixel += outPixelWords;
                    origin += columnStep;
                }
                rowOrigin += rowStep;
            }
        }

        /// <summary>One filter without a pool: the accumulator of every window, its level bit (or the score) written at once.</summary>
        private void FilterWindows(LayerSpec l, LayerGeometry g, byte[] image, uint[] input, uint[] weights, int wBase, uint[] output, int outWord, uint bit,
            int[] t, int tBase, bool flip, int[] scores, int f, int shift, int offset)
        {
            bool thresholds = l.Output == OutputKind.Thresholds;
            int outH = l.OutH, outW = l.OutW, strideH = l.StrideH, strideW = l.StrideW;
            bool direct = l.InputSigned && l.WeightCode == WeightCode.Odd;   // odd-level weights on signed input
            int outPixelWords = g.OutPixelWords, outChannelWords = g.OutChannelWords, levels = g.Levels;
            int columnStep = g.WindowColumnStep, rowStep = g.WindowRowStep;
            int byteColumnStep = g.ImageWindowColumnStep, byteRowStep = g.ImageWindowRowStep;
            int outPixel = outWord;
            int rowWindow = g.WindowStart, rowWindowByte = g.ImageWindowStart;
            int iy0 = -l.PadTop;
            for (int oy = 0; oy < outH; oy++)
            {
                int window = rowWindow, windowByte = rowWindowByte;
                int ix0 = -l.PadLeft;
                for (int ox = 0; ox < outW; ox++)
                {
                    int acc = direct ? AccumulateSigned(l, g, input, window, iy0, ix0, weights, wBase)
                        : Accumulate(l, g, image, input, window, windowByte, iy0, ix0, weights, wBase);
                    if (thresholds) WriteLevel(output, outPixel, bit, outChannelWords, Level(acc, t, tBase, levels, flip));
                    else scores[f] = (acc << shift) + offset;
                    outPixel += outPixelWords;
                    window += columnStep;
                    windowByte += byteColumnStep;
                    ix0 += strideW;
                }
                rowWindow += rowStep;
                rowWindowByte += byteRowStep;
                iy0 += strideH;
            }
        }

        /// <summary>All conv accumulators of one filter, row-major ConvOutH × ConvOutW, for the fused pool.</summary>
        private void ConvolveMap(LayerSpec l, LayerGeometry g, byte[] image, uint[] input, uint[] weights, int wBase, int[] map)
        {
            int convH = g.ConvOutH, convW = g.ConvOutW, strideH = l.StrideH, strideW = l.StrideW;
            bool direct = l.InputSigned && l.WeightCode == WeightCode.Odd;   // odd-level weights on signed input
            int columnStep = g.WindowColumnStep, rowStep = g.WindowRowStep;
            int byteColumnStep = g.ImageWindowColumnStep, byteRowStep = g.ImageWindowRowStep;
            int at = 0;
            int rowWindow = g.WindowStart, rowWindowByte = g.ImageWindowStart;
            int iy0 = -l.PadTop;
            for (int oy = 0; oy < convH; oy++)
            {
                int window = rowWindow, windowByte = rowWindowByte;
                int ix0 = -l.PadLeft;
                for (int ox = 0; ox < convW; ox++)
                {
                    map[at++] = direct ? AccumulateSigned(l, g, input, window, iy0, ix0, weights, wBase)
                        : Accumulate(l, g, image, input, window, windowByte, iy0, ix0, weights, wBase);
                    window += columnStep;
                    windowByte += byteColumnStep;
                    ix0 += strideW;
                }
                rowWindow += rowStep;
                rowWindowByte += byteRowStep;
                iy0 += strideH;
            }
        }

        /// <summary>
        /// One window's accumulator: from the image for the first layer (unsigned input: <see cref="ImageLayer"/>),
        /// from the input planes for every other layer (<see cref="AccumulateSigned"/>); log weights (SPEC 1.3) by
        /// <see cref="AccumulateSignedLog"/> and <see cref="ImageLayer.WindowAccumulatorLog"/>.
        /// </summary>
        private int Accumulate(LayerSpec l, LayerGeometry g, byte[] image, uint[] input, int window, int windowByte, int iy0, int ix0, uint[] weights, int wBase)
        {
            if (l.WeightCode == WeightCode.Log)
                return l.InputSigned ? AccumulateSignedLog(l, g, input, window, iy0, ix0, weights, wBase)
                    : ImageLayer.WindowAccumulatorLog(l, g, image, _inputShift, windowByte, iy0, ix0, weights, wBase);
            if (l.InputSigned) return AccumulateSigned(l, g, input, window, iy0, ix0, weights, wBase);
            if (_lit.Length != 0) return ImageLayer.LitAccumulator(_lit, _litCount, _litSum, weights, wBase, g.WeightPlaneWords, l.WeightBits);
            return ImageLayer.WindowAccumulator(l, g, image, _inputShift, windowByte, iy0, ix0, weights, wBase);
        }

        /// <summary>
        /// The mask M_e of the channels of one weight word whose log weight has exponent <paramref name="e"/> (SPEC 1.3):
        /// the AND over exponent planes 1 … m − 1 of the plane where bit (i − 1) of e is 1, else its complement. Bits
        /// past C have every plane 0, so they fall into M_0; callers discount them.
        /// </summary>
        private static uint ExponentMask(uint[] weights, int word, int planeWords, int m, int e)
        {
            uint mask = 0xFFFFFFFFu;
            for (int i = 1; i < m; i++)
            {
                word += planeWords;
                uint p = weights[word];
                mask &= ((e >> (i - 1)) & 1) != 0 ? p : ~p;
            }
            return mask;
        }

        /// <summary>
        /// Log weights, signed input (SPEC 1.4): acc = (2^k − 1)·N − 2·Σ_j Σ_e popcount((A_j XOR S) AND M_e) &lt;&lt; (j + e),
        /// N = Σ_c 2^(e_c) over the window's C·KH·KW weights (padding positions included: their planes are all 0, the
        /// lowest level, so A_j XOR S is S there).
        /// </summary>
        private static int AccumulateSignedLog(LayerSpec l, LayerGeometry g, uint[] input, int window, int iy0, int ix0, uint[] weights, int wBase)
        {
            int cw = g.InChannelWords;
            int m = l.WeightBits, k = l.InputBits, exponents = 1 << (m - 1);
            int junk = (cw << 5) - l.InC;
            int weightSum = 0, disagree = 0;
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
                    bool inside = rowInside && ix >= 0 && ix < l.InW;
                    for (int w = 0; w < cw; w++)
                    {
                        uint sign = weights[position + w];
                        for (int e = 0; e < exponents; e++)
                        {
                            uint mask = ExponentMask(weights, position + w, g.WeightPlaneWords, m, e);
                            weightSum += Popcount.Count(mask) << e;
                            int aPlane = pixel + w;
                            for (int j = 0; j < k; j++)
                            {
                                uint a = inside ? input[aPlane] : 0u;
                                disagree += Popcount.Count((a ^ sign) & mask) << (j + e);
                                aPlane += cw;
                            }
                        }
                    }
                    weightSum -= junk;
                    position += cw;
                    pixel += g.InPixelWords;
                }
                row += g.InRowWords;
            }
            return (weightSum << k) - weightSum - (disagree << 1);
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
        /// One accumulator of SPEC 1.4 over one pixel of signed input (a Dense layer over a 1 × 1 input, or one
        /// position of a recurrent step): <paramref name="inputBits"/> planes of ceil(C / 32) words from
        /// <paramref name="inputAt"/>, <paramref name="weightBits"/> planes of as many words from
        /// <paramref name="weightAt"/>; acc = C·(2^m−1)·(2^k−1) − 2·Σ popcount(A_j XOR W_i) &lt;&lt; (i+j).
        /// Bits past C in the last word must be 0 in both (SPEC 1.2, 1.3).
        /// </summary>
        public static int DenseAccumulator(uint[] input, int inputAt, uint[] weights, int weightAt, int channels, int inputBits, int weightBits)
        {
            int cw = (channels + 31) >> 5;
            int disagree = 0;
            int wPlane = weightAt;
            for (int i = 0; i < weightBits; i++)
            {
                int aPlane = inputAt;
                for (int j = 0; j < inputBits; j++)
                {
                    disagree += Popcount.Xor(input, aPlane, weights, wPlane, cw) << (i + j);
                    aPlane += cw;
                }
                wPlane += cw;
            }
            int agree = (channels << weightBits) - channels;
            agree = (agree << inputBits) - agree;
            return agree - (disagree << 1);
        }

        /// <summary>
        /// Signed input (SPEC 1.4): acc = Σ (C − 2·popcount(A_j XOR W_i)) &lt;&lt; (i+j) = AgreeAll − 2·Σ popcount &lt;&lt; (i+j),
        /// a window row at a time (one run of KW · CW words per plane pair for 1-bit input; the whole window in one run
        /// when its rows are the input's rows). Padding positions are all-zero pixels (the lowest level): their
        /// XOR is the weight word, counted once for the 2^k − 1 weight of the k input planes.
        /// </summary>
        private static int AccumulateSigned(LayerSpec l, LayerGeometry g, uint[] input, int window, int iy0, int ix0, uint[] weights, int wBase)
        {
            int kh = l.KernelH, kw = l.KernelW, m = l.WeightBits, k = l.InputBits;
            if (kh == 1 && kw == 1 && iy0 >= 0 && ix0 >= 0 && iy0 < l.InH && ix0 < l.InW)
                return DenseAccumulator(input, window, weights, wBase, l.InC, k, m);
            int cw = g.InChannelWords, pixelWords = g.InPixelWords, planeWords = g.WeightPlaneWords, rowWords = g.WeightRowWords;
            int inRowWords = g.InRowWords;
            int disagree = 0;
            if (k == 1 && iy0 >= 0 && ix0 >= 0 && iy0 + kh <= l.InH && ix0 + kw <= l.InW)
            {
                // A window inside the input, 1-bit input: KH rows of KW · CW words per weight plane.
                int plane = wBase;
                for (int i = 0; i < m; i++, plane += planeWords)
                    disagree += (inRowWords == rowWords
                        ? Popcount.Xor(input, window, weights, plane, planeWords)
                        : Popcount.XorRows(input, window, inRowWords, weights, plane, kh, rowWords)) << i;
                return g.AgreeAll - (disagree << 1);
            }
            int ky0 = iy0 < 0 ? -iy0 : 0, ky1 = l.InH - iy0;
            if (ky1 > kh) ky1 = kh;
            int kx0 = ix0 < 0 ? -ix0 : 0, kx1 = l.InW - ix0;
            if (kx1 > kw) kx1 = kw;
            if (kx0 > kw) kx0 = kw;
            if (kx1 < kx0) kx1 = kx0;
            // Per window: the words left of, inside and right of the input (all inside for interior windows).
            int leftWords = 0, leftInput = 0, insideWords = rowWords, rightAt = rowWords, rightWords = 0;
            if (kx0 != 0 || kx1 != kw)
            {
                leftWords = FormatMath.Mul(kx0, cw);
                leftInput = FormatMath.Mul(kx0, pixelWords);
                rightAt = FormatMath.Mul(kx1, cw);
                insideWords = rightAt - leftWords;
                rightWords = rowWords - rightAt;
            }
            int row = window, wRow = wBase;
            for (int ky = 0; ky < kh; ky++)
            {
                bool inside = ky >= ky0 && ky < ky1;
                int wPlane = wRow;
                for (int i = 0; i < m; i++)
                {
                    int pad = 0;
                    if (!inside) pad = Popcount.Words(weights, wPlane, rowWords);
                    else
                    {
                        if (leftWords != 0) pad = Popcount.Words(weights, wPlane, leftWords);
                        if (rightWords != 0) pad += Popcount.Words(weights, wPlane + rightAt, rightWords);
                        int a = row + leftInput, w = wPlane + leftWords;
                        if (k == 1) disagree += Popcount.Xor(input, a, weights, w, insideWords) << i;
                        else
                        {
                            for (int j = 0; j < k; j++)
                            {
                                int count = 0;
                                int aPixel = a, wTap = w, wEnd = w + insideWords;
                                for (; wTap < wEnd; wTap += cw, aPixel += pixelWords)
                                    count += Popcount.Xor(input, aPixel, weights, wTap, cw);
                                disagree += count << (i + j);
                                a += cw;
                            }
                        }
                    }
                    // A padded tap reads level 0 in each of the k planes: Σ_j pad << (i + j) = (pad · (2^k − 1)) << i.
                    if (pad != 0) disagree += ((pad << k) - pad) << i;
                    wPlane += planeWords;
                }
                row += inRowWords;
                wRow += rowWords;
            }
            return g.AgreeAll - (disagree << 1);
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
