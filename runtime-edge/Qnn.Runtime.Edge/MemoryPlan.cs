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
    /// <item>Activations: two ping-pong buffers: A holds the outputs of odd layers, B the outputs of even layers (the
    /// first layer reads the caller's image bytes); the last layer's "output" is its class scores as words (for the
    /// observer).</item>
    /// <item>Scratch: the accumulator map of one filter for fused pools, and the first layer's lit pixels when it has
    /// one window (<see cref="ImageLayer"/>).</item>
    /// <item>Objects: every object and array header of the interpreter (itself, its plan, its geometry per layer, the
    /// headers of the buffers above) and of the model it runs (the model, its layer table, each layer's arrays, labels
    /// and metadata strings), at the larger of .NET nanoFramework's and desktop .NET's sizes
    /// (<see cref="ObjectSize"/>, <see cref="ArraySize"/>).</item>
    /// </list>
    /// <see cref="LoadBytes"/> adds what the reader allocates and drops while it loads the model.
    /// </summary>
    public sealed partial class MemoryPlan
    {
        /// <summary>Bytes through which streamed weights are read from the file.</summary>
        public const int ChunkBytes = 256;

        /// <summary>
        /// nanoCLR's heap unit, CLR_RT_HeapBlock, on a 32-bit device (nf-interpreter src/CLR/Include/nanoCLR_Runtime.h):
        /// an object is one block of header plus one block per instance field, whatever the field's type.
        /// </summary>
        public const int HeapBlockBytes = 12;
        /// <summary>nanoCLR's array header, CLR_RT_HeapBlock_Array: a heap block, the element count and four bytes of
        /// element type, size and flags; elements follow, and the whole is rounded up to heap blocks
        /// (ExtractHeapBlocksForArray in src/CLR/Core/Execution.cpp). An array of references holds heap blocks.</summary>
        public const int ArrayHeaderBytes = 20;
        /// <summary>Instance fields of the objects the plan counts (checked against the types by a test on .NET).</summary>
        public const int InterpreterFields = 17, MemoryPlanFields = 16, LayerGeometryFields = 23, QnnModelFields = 14, LayerSpecFields = 37;
        /// <summary>The reader's own buffers and objects beyond the LAYER sections' bytes (header, section table,
        /// chunk, CRC state, the MODEL section's bytes; the LABELS and METADATA sections are added by their strings),
        /// 1,250 bytes or less on .NET for the test's random models (MemoryPlanTests).</summary>
        public const int ReaderBytes = 2048;

        public bool Streamed { get; private set; }
        public int WeightBytes { get; private set; }
        public int ActivationBytes { get; private set; }
        public int ScratchBytes { get; private set; }
        /// <summary>Object and array headers of the interpreter and of the model (see the class summary).</summary>
        public int ObjectBytes { get; private set; }
        public int TotalBytes { get; private set; }
        /// <summary>
        /// TotalBytes plus every buffer the reader allocates and drops while it loads the model (its header, section
        /// table and chunk; each LAYER section's bytes when the weights are resident): all the bytes allocated from
        /// the start of the load to the end of the first inference, garbage included, so at least the peak.
        /// </summary>
        public int LoadBytes { get; private set; }
        /// <summary>Per layer: its resident LAYER data, or its streamed filter buffer.</summary>
        public int[] LayerWeightBytes { get; private set; }
        /// <summary>Per layer: its input and output tensors (scores count one word per class).</summary>
        public int[] LayerActivationBytes { get; private set; }

        /// <summary>Words of ping-pong buffer A (outputs of odd layers) and B (outputs of even layers).</summary>
        public int BufferAWords { get; private set; }
        public int BufferBWords { get; private set; }
        /// <summary>Largest accumulator map of a fused-pool layer, in ints.</summary>
        public int AccumulatorWords { get; private set; }
        /// <summary>Ints of the first layer's lit-pixel list (<see cref="ImageLayer.LitCapacity"/>).</summary>
        public int LitWords { get; private set; }
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
            int bufferA = 0, bufferB = 0;
            int resident = 0, filterWords = 0, parameterWords = 0, accumulators = 0;
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
            }
            if (bufferB < 1) bufferB = 1;
            plan.BufferAWords = bufferA;
            plan.BufferBWords = bufferB;
            plan.AccumulatorWords = accumulators;
            plan.LitWords = ImageLayer.LitCapacity(layers[0]);
            if (streamWeights)
            {
                plan.FilterBufferWords = filterWords;
                plan.ParameterWords = parameterWords;
                // Thresholds are read as words and kept as ints: Levels more ints beside the parameter words.
                plan.WeightBytes = ((filterWords + parameterWords + parameterWords - 1) << 2) + ChunkBytes;
            }
            else plan.WeightBytes = resident;
            plan.ActivationBytes = (bufferA + bufferB) << 2;
            plan.ScratchBytes = (accumulators + plan.LitWords) << 2;
            plan.ObjectBytes = Objects(model, plan, streamWeights);
            plan.TotalBytes = plan.WeightBytes + plan.ActivationBytes + plan.ScratchBytes + plan.ObjectBytes;
            // The reader's buffers: its header, section table and chunk, and (resident) each LAYER section's bytes.
            int reader = ReaderBytes + SectionBytes(model.Labels) + SectionBytes(model.MetadataKeys) + SectionBytes(model.MetadataValues);
            for (int i = 0; i < n && !streamWeights; i++) reader += ArraySize(layers[i].DataBytes, 1);
            plan.LoadBytes = plan.TotalBytes + reader;
            return plan;
        }

        /// <summary>Bytes of an object with <paramref name="fields"/> instance fields: nanoCLR's (1 + fields) heap
        /// blocks, at least desktop .NET's 24-byte minimum (whose header is 16 bytes and fields at most 8).</summary>
        public static int ObjectSize(int fields)
        {
            int nano = FormatMath.Mul(fields + 1, HeapBlockBytes);
            return nano < 24 ? 24 : nano;
        }

        /// <summary>Bytes of an array: nanoCLR's header and elements rounded up to heap blocks, or desktop .NET's
        /// 24-byte header and elements rounded up to 8 bytes, whichever is larger.</summary>
        public static int ArraySize(int length, int elementBytes)
        {
            int data = FormatMath.Mul(length, elementBytes);
            int nano = FormatMath.Mul(FormatMath.Div(ArrayHeaderBytes + data + HeapBlockBytes - 1, HeapBlockBytes), HeapBlockBytes);
            int desktop = (24 + data + 7) & ~7;
            return nano > desktop ? nano : desktop;
        }

        /// <summary>The header of an array whose elements are already counted elsewhere.</summary>
        private static int Header(int length, int elementBytes)
        {
            return ArraySize(length, elementBytes) - FormatMath.Mul(length, elementBytes);
        }

        private static int Objects(QnnModel model, MemoryPlan plan, bool streamed)
        {
            LayerSpec[] layers = model.Layers;
            int n = layers.Length;
            // The interpreter, its plan (two int arrays per layer) and its geometry (an array of references, one object per layer).
            int bytes = ObjectSize(InterpreterFields) + ObjectSize(MemoryPlanFields) + ArraySize(n, 4) + ArraySize(n, 4)
                + ArraySize(n, HeapBlockBytes) + FormatMath.Mul(n, ObjectSize(LayerGeometryFields));
            // The headers of the buffers counted as activations, scratch and streamed weights.
            bytes += Header(plan.BufferAWords, 4) + Header(plan.BufferBWords, 4) + Header(plan.AccumulatorWords, 4) + Header(plan.LitWords, 4)
                + Header(plan.FilterBufferWords, 4) + Header(plan.ParameterWords, 4)
                + Header(streamed ? plan.ParameterWords - 1 : 0, 4) + Header(streamed ? ChunkBytes : 0, 1);
            // The model: itself, its layer table, each layer's resident arrays (their data is the weight bytes).
            bytes += ObjectSize(QnnModelFields) + ArraySize(n, HeapBlockBytes) + FormatMath.Mul(n, ObjectSize(LayerSpecFields));
            for (int i = 0; i < n; i++)
            {
                LayerSpec l = layers[i];
                if (streamed || l.Kind == LayerKind.MaxPool2D) continue;
                bytes += Header(l.WeightWords, 4);
                if (l.Output == OutputKind.Scores) bytes += Header(l.OutC, 4) + Header(l.OutC, 4);
                else bytes += Header(FormatMath.Mul(l.OutC, l.Levels), 4) + Header(l.OutChannelWords, 4);
            }
            bytes += Strings(model.Labels) + Strings(model.MetadataKeys) + Strings(model.MetadataValues);
            return bytes;
        }

        /// <summary>Bytes of a LABELS or METADATA section holding these strings as UTF-8 with a length each.</summary>
        private static int SectionBytes(string[]? strings)
        {
            if (strings == null) return 0;
            int bytes = 0;
            for (int i = 0; i < strings.Length; i++)
                bytes += FormatMath.Mul(strings[i] == null ? 0 : strings[i].Length, 3) + 4;
            return ArraySize(bytes, 1);
        }

        /// <summary>An array of strings: nanoCLR keeps UTF-8 bytes (as an array of them, an upper bound of its string header), desktop .NET UTF-16 (22 bytes of header): the larger.</summary>
        private static int Strings(string[]? strings)
        {
            if (strings == null) return 0;
            int bytes = ArraySize(strings.Length, HeapBlockBytes);
            for (int i = 0; i < strings.Length; i++)
            {
                int chars = strings[i] == null ? 0 : strings[i].Length;
                int desktop = (22 + chars + chars + 7) & ~7;
                int nano = ArraySize(FormatMath.Mul(chars, 3) + 1, 1);  // UTF-8: at most 3 bytes per UTF-16 unit
                bytes += desktop > nano ? desktop : nano;
            }
            return bytes;
        }
    }
}
