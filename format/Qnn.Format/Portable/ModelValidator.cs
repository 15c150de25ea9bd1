using System;

namespace Qnn.Format
{
    /// <summary>The consistency rules of SPEC sections 1.9 and 4, shared by the reader and the writer.</summary>
    public static class ModelValidator
    {
        /// <summary>Checks the header and every layer record; throws <see cref="QnnFormatException"/> on the first problem.</summary>
        public static void Check(QnnModel model)
        {
            LayerSpec[] layers = model.Layers;
            if (layers.Length < 1 || layers.Length > FormatConstants.MaxLayers)
                throw new QnnFormatException("layer count " + layers.Length.ToString() + " is outside 1-64");
            long macs = 0;
            bool sequence = layers[0].Kind == LayerKind.Embedding;
            for (int i = 0; i < layers.Length; i++)
            {
                LayerSpec l = layers[i];
                string at = "layer " + i.ToString() + " (" + KindName(l.Kind) + "): ";
                CheckLayer(l, at);
                if (i == 0)
                {
                    if (l.InputSigned) throw new QnnFormatException(at + "the first layer must read the unsigned input image (input signed = 0)");
                    if (l.InH != model.InputHeight || l.InW != model.InputWidth || l.InC != model.InputChannels)
                        throw new QnnFormatException(at + "input " + Shape(l.InH, l.InW, l.InC) + " differs from the model input " + Shape(model.InputHeight, model.InputWidth, model.InputChannels));
                    if (l.InputBits != model.InputBits)
                        throw new QnnFormatException(at + "input bits " + l.InputBits.ToString() + " differ from the model's " + model.InputBits.ToString());
                    if (l.Kind == LayerKind.MaxPool2D)
                        throw new QnnFormatException(at + "the first layer cannot be a max-pool");
                    if (l.IsRecurrent)
                        throw new QnnFormatException(at + "an LSTM or GRU must follow the Embedding or another LSTM/GRU");
                }
                else
                {
                    LayerSpec p = layers[i - 1];
                    CheckSequenceOrder(l, p, sequence, at);
                    if (!l.InputSigned) throw new QnnFormatException(at + "only the first layer reads unsigned input");
                    if (l.InH != p.OutH || l.InW != p.OutW || l.InC != p.OutC)
                        throw new QnnFormatException(at + "input " + Shape(l.InH, l.InW, l.InC) + " differs from the previous layer's output " + Shape(p.OutH, p.OutW, p.OutC));
                    if (l.InputBits != p.OutputBits)
                        throw new QnnFormatException(at + "input bits " + l.InputBits.ToString() + " differ from the previous layer's output bits " + p.OutputBits.ToString());
                }
                bool last = i == layers.Length - 1;
                if (last && l.Output != OutputKind.Scores)
                    throw new QnnFormatException(at + "the last layer must output scores (output kind 2)");
                if (!last && l.Output == OutputKind.Scores)
                    throw new QnnFormatException(at + "only the last layer may output scores");
                if (last && l.OutC != model.ClassCount)
                    throw new QnnFormatException(at + "outputs " + l.OutC.ToString() + " scores for " + model.ClassCount.ToString() + " classes");
                // The sizes above bound memory, not work: a small file can still ask for minutes per image.
                long layerMacs = l.Macs;
                macs = layerMacs < 0 ? FormatConstants.MaxMacs : macs + layerMacs;
                if (macs >= FormatConstants.MaxMacs)
                    throw new QnnFormatException(at + "the model needs " + (layerMacs < 0 ? "over 2^31" : macs.ToString()) + (sequence ? " MACs per step" : " MACs per inference") + " up to this layer, over the limit of 2^31");
            }
        }

        /// <summary>
        /// SPEC 1.10 and 4: an Embedding only as layer 0; an LSTM/GRU only after the Embedding or another LSTM/GRU;
        /// after them only Dense layers (whose input is then 1 × 1, as the shapes of consecutive layers agree).
        /// </summary>
        private static void CheckSequenceOrder(LayerSpec l, LayerSpec previous, bool sequence, string at)
        {
            if (l.Kind == LayerKind.Embedding)
                throw new QnnFormatException(at + "an Embedding can only be layer 0");
            if (l.IsRecurrent && !previous.IsSequenceLayer)
                throw new QnnFormatException(at + "an LSTM or GRU must follow the Embedding or another LSTM/GRU, not " + KindName(previous.Kind));
            if (!sequence) return;
            if (!l.IsSequenceLayer && l.Kind != LayerKind.Dense)
                throw new QnnFormatException(at + "a sequence model has only Dense layers after its Embedding and LSTM/GRU layers");
        }

        /// <summary>The record of an Embedding, LSTM or GRU (SPEC 2.3, 2.4 "Sequence layers", 4).</summary>
        private static void CheckSequenceLayer(LayerSpec l, string at)
        {
            if (l.InH != 1 || l.InW != 1 || l.OutH != 1 || l.OutW != 1)
                throw new QnnFormatException(at + "a sequence layer has a 1x1 input and output");
            if (l.KernelH != 1 || l.KernelW != 1 || l.StrideH != 1 || l.StrideW != 1 || l.PadTop != 0 || l.PadLeft != 0 || l.PadBottom != 0 || l.PadRight != 0)
                throw new QnnFormatException(at + "a sequence layer has a 1x1 kernel, stride 1, no padding");
            if (l.PoolH != 0 || l.PoolW != 0 || l.PoolStrideH != 0 || l.PoolStrideW != 0)
                throw new QnnFormatException(at + "a sequence layer has no fused pool");
            if (l.Output != OutputKind.Levels)
                throw new QnnFormatException(at + "a sequence layer outputs levels (output kind 4), not output kind " + ((int)l.Output).ToString());
            Range(at, "output bits", l.OutputBits, 1, FormatConstants.MaxBits);
            if (l.Kind == LayerKind.Embedding)
            {
                if (l.InputBits != 1) throw new QnnFormatException(at + "an Embedding reads a one-hot token (input bits 1), not " + l.InputBits.ToString() + " bits");
                if (l.WeightBits != l.OutputBits)
                    throw new QnnFormatException(at + "an Embedding's weight bits " + l.WeightBits.ToString() + " differ from its output bits " + l.OutputBits.ToString());
                if (l.GateBits != 0 || l.CellBits != 0) throw new QnnFormatException(at + "an Embedding has gate bits and cell bits 0");
            }
            else
            {
                if (!l.InputSigned) throw new QnnFormatException(at + "an LSTM or GRU reads signed levels (input signed = 1)");
                Range(at, "weight bits", l.WeightBits, 1, FormatConstants.MaxBits);
                if (l.OutputBits != l.InputBits)
                    throw new QnnFormatException(at + "output bits " + l.OutputBits.ToString() + " differ from input bits " + l.InputBits.ToString() + " (k is one across the sequence layers)");
                Range(at, "gate bits", l.GateBits, 1, FormatConstants.MaxBits);
                if (l.Kind == LayerKind.Lstm) Range(at, "cell bits", l.CellBits, 1, FormatConstants.MaxBits);
                else if (l.CellBits != 0) throw new QnnFormatException(at + "a GRU has cell bits 0, not " + l.CellBits.ToString());
                int bound = l.AccumulatorBound;
                if (bound < 0 || bound >= FormatConstants.MaxAccumulatorBound)
                    throw new QnnFormatException(at + "gate bound (X+H)*(2^m-1)*(2^k-1) reaches 2^30");
                if (l.Kind == LayerKind.Gru && ((long)bound << l.GateBits) >= FormatConstants.MaxAccumulatorBound)
                    throw new QnnFormatException(at + "candidate bound (gate bound << g) reaches 2^30");
            }
            int weightWords = l.WeightWords;
            if (weightWords < 0 || weightWords > FormatConstants.MaxWeightWords)
                throw new QnnFormatException(at + "weight block is over the limit of 16 Mi words");
            if (l.DeclaredWeightWords != weightWords)
                throw new QnnFormatException(at + "record declares " + l.DeclaredWeightWords.ToString() + " weight words, the shape implies " + weightWords.ToString());
            if (l.DataBytes < 0)
                throw new QnnFormatException(at + "the layer's section would be over 2 GiB");
            CheckActivation(l, at);
        }

        private static void CheckLayer(LayerSpec l, string at)
        {
            Range(at, "input height", l.InH, 1, FormatConstants.MaxSpatial);
            Range(at, "input width", l.InW, 1, FormatConstants.MaxSpatial);
            Range(at, "input channels", l.InC, 1, FormatConstants.MaxChannels);
            Range(at, "output height", l.OutH, 1, FormatConstants.MaxSpatial);
            Range(at, "output width", l.OutW, 1, FormatConstants.MaxSpatial);
            Range(at, "output channels", l.OutC, 1, FormatConstants.MaxChannels);
            Range(at, "input bits", l.InputBits, 1, FormatConstants.MaxBits);
            if (l.IsSequenceLayer)
            {
                CheckSequenceLayer(l, at);
                return;
            }
            if (l.GateBits != 0 || l.CellBits != 0)
                throw new QnnFormatException(at + "only an LSTM or GRU has gate bits, only an LSTM cell bits (must be 0)");
            if (l.Output == OutputKind.Levels) throw new QnnFormatException(at + "output kind 4 is only for Embedding, LSTM and GRU layers");
            if (l.Kind == LayerKind.MaxPool2D)
            {
                if (l.WeightBits != 0) throw new QnnFormatException(at + "a max-pool has no weights (weight bits must be 0)");
                if (l.Output != OutputKind.PooledActivations) throw new QnnFormatException(at + "a max-pool outputs pooled activations (output kind 3)");
                if (!l.InputSigned) throw new QnnFormatException(at + "a max-pool reads signed activations");
                if (l.OutputBits != l.InputBits) throw new QnnFormatException(at + "output bits must equal input bits");
                if (l.OutC != l.InC) throw new QnnFormatException(at + "output channels must equal input channels");
                Range(at, "pool height", l.PoolH, 1, FormatConstants.MaxKernel);
                Range(at, "pool width", l.PoolW, 1, FormatConstants.MaxKernel);
                Range(at, "pool stride height", l.PoolStrideH, 1, FormatConstants.MaxKernel);
                Range(at, "pool stride width", l.PoolStrideW, 1, FormatConstants.MaxKernel);
                if (l.PoolH > l.InH || l.PoolW > l.InW) throw new QnnFormatException(at + "pool window is larger than the input");
                CheckPooledShape(l, at, l.InH, l.InW);
                if (l.DeclaredWeightWords != 0) throw new QnnFormatException(at + "a max-pool declares " + l.DeclaredWeightWords.ToString() + " weight words");
                CheckActivation(l, at);
                return;
            }
            Range(at, "weight bits", l.WeightBits, 1, FormatConstants.MaxBits);
            if (l.Output == OutputKind.PooledActivations) throw new QnnFormatException(at + "output kind 3 is only for max-pool layers");
            if (l.Output == OutputKind.Thresholds) Range(at, "output bits", l.OutputBits, 1, FormatConstants.MaxBits);
            else if (l.OutputBits != 0) throw new QnnFormatException(at + "a scores layer has output bits 0");
            Range(at, "kernel height", l.KernelH, 1, FormatConstants.MaxKernel);
            Range(at, "kernel width", l.KernelW, 1, FormatConstants.MaxKernel);
            Range(at, "stride height", l.StrideH, 1, FormatConstants.MaxKernel);
            Range(at, "stride width", l.StrideW, 1, FormatConstants.MaxKernel);
            if (l.Kind == LayerKind.Dense)
            {
                if (l.KernelH != l.InH || l.KernelW != l.InW || l.StrideH != 1 || l.StrideW != 1 || l.PadTop != 0 || l.PadLeft != 0 || l.PadBottom != 0 || l.PadRight != 0)
                    throw new QnnFormatException(at + "a dense layer's kernel is its whole input, stride 1, no padding");
                if (l.PoolH != 0 || l.PoolW != 0 || l.PoolStrideH != 0 || l.PoolStrideW != 0)
                    throw new QnnFormatException(at + "a dense layer has no fused pool");
            }
            if (l.PadTop >= l.KernelH || l.PadBottom >= l.KernelH || l.PadLeft >= l.KernelW || l.PadRight >= l.KernelW)
                throw new QnnFormatException(at + "padding must be smaller than the kernel");
            if (l.KernelH > l.InH + l.PadTop + l.PadBottom || l.KernelW > l.InW + l.PadLeft + l.PadRight)
                throw new QnnFormatException(at + "kernel " + l.KernelH.ToString() + "x" + l.KernelW.ToString() + " is larger than the padded input");
            int convH = l.ConvOutH, convW = l.ConvOutW;
            if (l.PoolH == 0 && l.PoolW == 0 && l.PoolStrideH == 0 && l.PoolStrideW == 0)
            {
                if (l.OutH != convH || l.OutW != convW)
                    throw new QnnFormatException(at + "output " + l.OutH.ToString() + "x" + l.OutW.ToString() + " differs from the computed " + convH.ToString() + "x" + convW.ToString());
            }
            else
            {
                Range(at, "pool height", l.PoolH, 1, FormatConstants.MaxKernel);
                Range(at, "pool width", l.PoolW, 1, FormatConstants.MaxKernel);
                Range(at, "pool stride height", l.PoolStrideH, 1, FormatConstants.MaxKernel);
                Range(at, "pool stride width", l.PoolStrideW, 1, FormatConstants.MaxKernel);
                if (l.PoolH > convH || l.PoolW > convW) throw new QnnFormatException(at + "pool window is larger than the conv output");
                CheckPooledShape(l, at, convH, convW);
            }
            int weightWords = l.WeightWords;
            if (weightWords < 0 || weightWords > FormatConstants.MaxWeightWords)
                throw new QnnFormatException(at + "weight block is over the limit of 16 Mi words");
            if (l.DeclaredWeightWords != weightWords)
                throw new QnnFormatException(at + "record declares " + l.DeclaredWeightWords.ToString() + " weight words, the shape implies " + weightWords.ToString());
            int bound = l.AccumulatorBound;
            if (bound < 0 || bound >= FormatConstants.MaxAccumulatorBound)
                throw new QnnFormatException(at + "accumulator bound KH*KW*C*(2^m-1)*(2^k-1) reaches 2^30");
            if (l.Output == OutputKind.Scores && (l.OutH != 1 || l.OutW != 1))
                throw new QnnFormatException(at + "a scores layer must have a 1x1 output");
            CheckActivation(l, at);
        }

        private static void CheckPooledShape(LayerSpec l, string at, int h, int w)
        {
            int ph = FormatMath.Div(h - l.PoolH, l.PoolStrideH) + 1;
            int pw = FormatMath.Div(w - l.PoolW, l.PoolStrideW) + 1;
            if (l.OutH != ph || l.OutW != pw)
                throw new QnnFormatException(at + "output " + l.OutH.ToString() + "x" + l.OutW.ToString() + " differs from the pooled " + ph.ToString() + "x" + pw.ToString());
        }

        private static void CheckActivation(LayerSpec l, string at)
        {
            int inWords = l.InputWords, outWords = l.OutputWords;
            if (inWords < 0 || inWords > FormatConstants.MaxActivationWords || outWords < 0 || outWords > FormatConstants.MaxActivationWords)
                throw new QnnFormatException(at + "an activation tensor is over the limit of 16 Mi words");
        }

        /// <summary>Checks that the bits past C in every kernel position's last word are 0 (SPEC 1.3).</summary>
        public static void CheckWeightPadding(LayerSpec l, int index, uint[] weights)
        {
            int rem = l.InC & 31;
            if (rem == 0) return;
            uint unused = ~((1u << rem) - 1u);
            int cw = l.InChannelWords;
            for (int last = cw - 1; last < weights.Length; last += cw)
                if ((weights[last] & unused) != 0)
                    throw new QnnFormatException("layer " + index.ToString() + ": weight word " + last.ToString() + " has bits set past channel " + l.InC.ToString());
        }

        /// <summary>
        /// Checks the padding bits of a sequence layer's weights (SPEC 2.4): an Embedding's rows (bits past E), an
        /// LSTM's or GRU's W filters (bits past X) and U filters (bits past H).
        /// </summary>
        public static void CheckSequenceWeightPadding(LayerSpec l, int index, uint[] weights)
        {
            if (l.Kind == LayerKind.Embedding)
            {
                CheckRowPadding(index, weights, 0, weights.Length, l.OutChannelWords, l.OutC);
                return;
            }
            int w = l.InputWeightWords;
            CheckRowPadding(index, weights, 0, w, l.InChannelWords, l.InC);
            CheckRowPadding(index, weights, w, weights.Length, l.OutChannelWords, l.OutC);
        }

        private static void CheckRowPadding(int index, uint[] weights, int start, int end, int rowWords, int channels)
        {
            int rem = channels & 31;
            if (rem == 0) return;
            uint unused = ~((1u << rem) - 1u);
            for (int last = start + rowWords - 1; last < end; last += rowWords)
                if ((weights[last] & unused) != 0)
                    throw new QnnFormatException("layer " + index.ToString() + ": weight word " + last.ToString() + " has bits set past channel " + channels.ToString());
        }

        /// <summary>
        /// Checks an LSTM's or GRU's thresholds (SPEC 1.10, 2.4): each gate channel's ascending, or descending where
        /// flipped (1.6); no flip bit past channel F; the cell, tanh and hidden thresholds ascending.
        /// </summary>
        public static void CheckRecurrentThresholds(LayerSpec l, int index)
        {
            int[] t = l.Thresholds!;
            int f = l.GateChannels;
            string at = "layer " + index.ToString() + " (" + KindName(l.Kind) + "): ";
            int c0 = 0;
            for (int c = 0; c < f; c++)
            {
                bool flip = l.IsFlipped(c);
                int n = l.GateThresholdsOf(c);
                for (int k = 1; k < n; k++)
                {
                    int a = t[c0 + k - 1], b = t[c0 + k];
                    if (flip ? a < b : a > b)
                        throw new QnnFormatException(at + "thresholds of gate channel " + c.ToString() + " are not " + (flip ? "descending" : "ascending"));
                }
                c0 += n;
            }
            int rem = f & 31;
            if (rem != 0 && (l.Flip![l.Flip.Length - 1] & ~((1u << rem) - 1u)) != 0)
                throw new QnnFormatException(at + "flip bits set past gate channel " + f.ToString());
            int[] s = l.StateThresholds!;
            if (l.Kind == LayerKind.Lstm)
            {
                int cells = l.CellLevels, levels = l.Levels;
                Ascending(s, 0, cells, at + "cell thresholds are not ascending");
                Ascending(s, cells, levels, at + "tanh thresholds are not ascending");
                Ascending(s, cells + levels, levels, at + "hidden thresholds are not ascending");
            }
            else Ascending(s, 0, l.Levels, at + "hidden thresholds are not ascending");
        }

        private static void Ascending(int[] t, int start, int count, string message)
        {
            for (int k = start + 1; k < start + count; k++)
                if (t[k - 1] > t[k]) throw new QnnFormatException(message);
        }

        /// <summary>Checks threshold order and unused flip bits (SPEC 1.6).</summary>
        public static void CheckThresholds(LayerSpec l, int index)
        {
            int[] t = l.Thresholds!;
            int levels = l.Levels;
            int c0 = 0;
            for (int c = 0; c < l.OutC; c++)
            {
                bool flip = l.IsFlipped(c);
                for (int k = 1; k < levels; k++)
                {
                    int a = t[c0 + k - 1], b = t[c0 + k];
                    if (flip ? a < b : a > b)
                        throw new QnnFormatException("layer " + index.ToString() + ": thresholds of channel " + c.ToString() + " are not " + (flip ? "descending" : "ascending"));
                }
                c0 += levels;
            }
            int rem = l.OutC & 31;
            if (rem != 0 && (l.Flip![l.Flip.Length - 1] & ~((1u << rem) - 1u)) != 0)
                throw new QnnFormatException("layer " + index.ToString() + ": flip bits set past channel " + l.OutC.ToString());
        }

        /// <summary>Checks score shifts and that shifted accumulators plus offsets fit (SPEC 1.7, 4).</summary>
        public static void CheckScores(LayerSpec l, int index)
        {
            int bound = l.AccumulatorBound;
            for (int c = 0; c < l.OutC; c++)
            {
                int s = l.Shifts![c];
                if (s < 0 || s > FormatConstants.MaxShift)
                    throw new QnnFormatException("layer " + index.ToString() + ": score shift " + s.ToString() + " of class " + c.ToString() + " is outside 0-16");
                if (((long)bound << s) >= FormatConstants.MaxAccumulatorBound)
                    throw new QnnFormatException("layer " + index.ToString() + ": score of class " + c.ToString() + " can overflow (bound << shift reaches 2^30)");
                int o = l.Offsets![c];
                if (o <= -FormatConstants.MaxAccumulatorBound || o >= FormatConstants.MaxAccumulatorBound)
                    throw new QnnFormatException("layer " + index.ToString() + ": score offset " + o.ToString() + " of class " + c.ToString() + " is outside +-2^30");
            }
        }

        public static string KindName(LayerKind kind)
        {
            if (kind == LayerKind.Dense) return "Dense";
            if (kind == LayerKind.Conv2D) return "Conv2D";
            if (kind == LayerKind.MaxPool2D) return "MaxPool2D";
            if (kind == LayerKind.Embedding) return "Embedding";
            if (kind == LayerKind.Lstm) return "LSTM";
            if (kind == LayerKind.Gru) return "GRU";
            return "kind " + ((int)kind).ToString();
        }

        private static string Shape(int h, int w, int c)
        {
            return h.ToString() + "x" + w.ToString() + "x" + c.ToString();
        }

        private static void Range(string at, string what, int value, int min, int max)
        {
            if (value < min || value > max)
                throw new QnnFormatException(at + what + " " + value.ToString() + " is outside " + min.ToString() + "-" + max.ToString());
        }
    }
}
