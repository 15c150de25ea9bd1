using System;
using Qnn.Format;

namespace Qnn.Runtime.Edge
{
    /// <summary>The memory of a <see cref="SequenceInterpreter"/> (SPEC 1.10), resident weights only.</summary>
    public sealed partial class MemoryPlan
    {
        /// <summary>Sequence models: the state kept between steps, h of every LSTM/GRU and c of every LSTM, in bytes.</summary>
        public int StateBytes { get; private set; }

        /// <summary>
        /// A sequence model: weights = every LAYER section; activations = the embedded token, each recurrent layer's new
        /// output, and the Dense layers' two buffers; state = h and c (<see cref="StateBytes"/>); scratch = acc_x and
        /// acc_h of the widest recurrent layer's gate channels.
        /// </summary>
        private static MemoryPlan ComputeSequence(QnnModel model)
        {
            LayerSpec[] layers = model.Layers;
            int n = layers.Length;
            MemoryPlan plan = new MemoryPlan();
            plan.LayerWeightBytes = new int[n];
            plan.LayerActivationBytes = new int[n];
            int weights = 0, activations = layers[0].OutputWords, state = 0, gates = 0, bufferA = 0, bufferB = 0;
            int dense = 0;
            for (int i = 0; i < n; i++)
            {
                LayerSpec l = layers[i];
                plan.LayerWeightBytes[i] = l.DataBytes;
                weights += l.DataBytes;
                int outWords = l.Output == OutputKind.Scores ? l.OutC : l.OutputWords;
                plan.LayerActivationBytes[i] = (l.Kind == LayerKind.Embedding ? outWords : l.InputWords + outWords) << 2;
                if (l.IsRecurrent)
                {
                    activations += l.OutputWords;
                    state += l.OutputWords + (l.Kind == LayerKind.Lstm ? l.OutC : 0);
                    if (l.GateChannels > gates) gates = l.GateChannels;
                }
                else if (l.Kind == LayerKind.Dense)
                {
                    // The Dense layers run as the reference interpreter does: A holds their input's size, outputs alternate B, A.
                    if (dense == 0) bufferA = l.InputWords;
                    if ((dense & 1) == 0) { if (outWords > bufferB) bufferB = outWords; }
                    else if (outWords > bufferA) bufferA = outWords;
                    dense++;
                }
            }
            if (bufferB < 1) bufferB = 1;
            plan.BufferAWords = bufferA;
            plan.BufferBWords = bufferB;
            plan.WeightBytes = weights;
            plan.ActivationBytes = (activations + bufferA + bufferB) << 2;
            plan.StateBytes = state << 2;
            plan.ScratchBytes = gates << 3;
            plan.TotalBytes = plan.WeightBytes + plan.ActivationBytes + plan.StateBytes + plan.ScratchBytes;
            return plan;
        }
    }
}
