using System;
using Qnn.Format;

namespace Qnn.Runtime.Edge
{
    /// <summary>
    /// What <see cref="SequenceInterpreter"/> takes from the reference interpreter: its signed accumulator (SPEC 1.4)
    /// for a gate channel's filter and for the Dense layers after the recurrent ones, run on input planes already in
    /// place (their levels and scores by <see cref="Level"/> and SPEC 1.7, as <see cref="Run"/> gives them).
    /// </summary>
    public sealed partial class Interpreter
    {
        /// <summary>
        /// The signed accumulator of one filter over a 1 × 1 input (a gate channel's W or U filter, SPEC 1.10 with
        /// <c>KH = KW = 1</c>): <paramref name="view"/> is a Dense record of the input's channels and bits, the filter
        /// starts at word <paramref name="weightBase"/> of <paramref name="weights"/>.
        /// </summary>
        internal int AccumulateVector(LayerSpec view, LayerGeometry geometry, uint[] input, uint[] weights, int weightBase)
        {
            return AccumulateSigned(view, geometry, input, 0, 0, 0, weights, weightBase);
        }

        /// <summary>
        /// Runs this interpreter's layers (Dense layers over a 1 × 1 × C input of signed levels) on
        /// <paramref name="input"/>, planes in the SPEC 1.2 layout; fills the scores, returns the predicted class.
        /// Each filter's accumulator is <see cref="AccumulateSigned"/>'s; outputs alternate between buffers B and A as
        /// <see cref="Run"/>'s do.
        /// </summary>
        internal int RunOnPlanes(uint[] input, int[] scores)
        {
            LayerSpec[] layers = _model.Layers;
            uint[] output = _bufferB;
            for (int i = 0; i < layers.Length; i++)
            {
                LayerSpec l = layers[i];
                LayerGeometry g = _geometry[i];
                uint[] weights = l.Weights!;
                bool thresholds = l.Output == OutputKind.Thresholds;
                if (thresholds) Array.Clear(output, 0, l.OutputWords);
                int weightBase = 0, thresholdBase = 0, word = 0;
                uint bit = 1u;
                for (int f = 0; f < l.OutC; f++)
                {
                    int acc = AccumulateSigned(l, g, input, 0, 0, 0, weights, weightBase);
                    if (thresholds) WriteLevel(output, word, bit, g.OutChannelWords, Level(acc, l.Thresholds!, thresholdBase, g.Levels, l.IsFlipped(f)));
                    else scores[f] = (acc << l.Shifts![f]) + l.Offsets![f];
                    weightBase += g.FilterWords;
                    thresholdBase += g.Levels;
                    bit <<= 1;
                    if (bit == 0) { bit = 1u; word++; }
                }
                input = output;
                output = output == _bufferB ? _bufferA : _bufferB;
            }
            return ArgMax(scores, _model.ClassCount);
        }

        /// <summary>Writes level <paramref name="q"/> of one channel into its planes (SPEC 1.2), bits already 0.</summary>
        internal static void WriteChannelLevel(uint[] output, int at, uint bit, int planeWords, int q)
        {
            WriteLevel(output, at, bit, planeWords, q);
        }
    }
}
