using System;
using Qnn.Format;

namespace Qnn.Runtime.Edge
{
    /// <summary>
    /// Every byte the interpreter holds for a model, computed from the layer table alone before the first inference
    /// (so a device can refuse a model that does not fit before reading its weights). The interpreter allocates
    /// exactly these buffers in its constructor and nothing during <see cref="Interpreter.Run"/>.
    /// <list type="bullet">
    /// <item>Weights: resident = every LAYER section (weights, thresholds and flips, or offsets and shifts);
    /// streamed = one filter's weights and its thresholds/flip word (or offset/shift) of the largest layer,
    /// plus the byte chunk the file is read through.</item>
    /// <item>Activations: two ping-pong buffers: A holds the input bit-planes and the outputs of odd layers,
    /// B the outputs of even layers; the last layer's "output" is its class scores as words (for the observer).</item>
    /// <item>Scratch: the accumulator map of one filter for fused pools, and one zero pixel read for signed padding.</item>
    /// </list>
    /// </summary>
    public sealed partial class MemoryPlan
    {
        /// <summary>Bytes through which streamed weights are read from the file.</summary>
        public const int ChunkBytes = 256;

        public bool Streamed { get; private set; }
        public int WeightBytes { get; private set; }
        public int ActivationBytes { get; private set; }
        public int ScratchBytes { get; private set; }
        public int TotalBytes { get; private set; }
        /// <summary>Per layer: its resident LAYER data, or its streamed filter buffer.</summary>
        public int[] LayerWeightBytes { get; private set; }
        /// <summary>Per layer: its input and output tensors (scores count one word per class).</summary>
        public int[] LayerActivationBytes { get; private set; }

        /// <summary>Words of ping-pong buffer A (input planes, outputs of odd layers) and B (outputs of even layers).</summary>
        public int BufferAWords { get; private set; }
        public int BufferBWords { get; private set; }
        /// <summary>Largest accumulator map of a fused-pool layer, in ints.</summary>
        public int AccumulatorWords { get; private set; }
        /// <summary>Words of the zero pixel read in place of padding (largest k · CW of a padded layer with signed input).</summary>
        public int PaddingWords { get; private set; }
        /// <summary>Streamed only: largest filter in words, largest per-filter parameter words (thresholds + flip, or offset + shift).</summary>
        public int FilterBufferWords { get; private set; }
        public int ParameterWords { get; private set; }

        private MemoryPlan()
        {
            LayerWeightBytes = new int[0];
            LayerActivationBytes = new int[0];
        }

        public static MemoryPlan Compute(QnnModel model, bool streamWeights)
        {
            LayerSpec[] layers = model.Layers;
            if (layers[0].Kind == LayerKind.Embedding) return ComputeSequence(model);
            int n = layers.Length;
            MemoryPlan plan = new MemoryPlan();
            plan.Streamed = streamWeights;
            plan.LayerWeightBytes = new int[n];
            plan.LayerActivationBytes = new int[n];
            int bufferA = layers[0].InputWords, bufferB = 0;
            int resident = 0, filterWords = 0, parameterWords = 0, accumulators = 0, padding = 0;
            for (int i = 0; i < n; i++)
            {
                LayerSpec l = layers[i];
                int outWords = l.Output == OutputKind.Scores ? l.OutC : l.OutputWords;
                if ((i & 1) == 0) { if (outWords > bufferB) bufferB = outWords; }
                else if (outWords > bufferA) bufferA = outWords;
                plan.LayerActivationBytes[i] = (l.InputWords + outWords) << 2;
                if (l.Kind == LayerKind.MaxPool2D) continue;
                int parameters = l.Output == OutputKind.Scores ? 2 : l.Levels + 1;
                int filter = l.FilterWords;
                if (filter > filterWords) filterWords = filter;
                if (parameters > parameterWords) parameterWords = parameters;
                if (streamWeights) plan.LayerWeightBytes[i] = (filter + parameters + parameters - 1) << 2;
                else
                {
                    plan.LayerWeightBytes[i] = l.DataBytes;
                    resident += l.DataBytes;
                }
                if (l.PoolH > 0)
                {
                    int map = FormatMath.Mul(l.ConvOutH, l.ConvOutW);
                    if (map > accumulators) accumulators = map;
                }
                // Only signed inputs read padding (as all-zero bits); unsigned padding adds nothing and is skipped.
                bool padded = l.PadTop != 0 || l.PadLeft != 0 || l.PadBottom != 0 || l.PadRight != 0;
                int pixel = l.InputSigned && padded ? FormatMath.Mul(l.InputBits, l.InChannelWords) : 0;
                if (pixel > padding) padding = pixel;
            }
            if (bufferB < 1) bufferB = 1;
            plan.BufferAWords = bufferA;
            plan.BufferBWords = bufferB;
            plan.AccumulatorWords = accumulators;
            plan.PaddingWords = padding;
            if (streamWeights)
            {
                plan.FilterBufferWords = filterWords;
                plan.ParameterWords = parameterWords;
                // Thresholds are read as words and kept as ints: Levels more ints beside the parameter words.
                plan.WeightBytes = ((filterWords + parameterWords + parameterWords - 1) << 2) + ChunkBytes;
            }
            else plan.WeightBytes = resident;
            plan.ActivationBytes = (bufferA + bufferB) << 2;
            plan.ScratchBytes = (accumulators + padding) << 2;
            plan.TotalBytes = plan.WeightBytes + plan.ActivationBytes + plan.ScratchBytes;
            return plan;
        }
    }
}
