using System;
using Qnn.Format;

namespace Qnn.Runtime.Edge
{
    /// <summary>
    /// What <see cref="SequenceInterpreter"/> takes from the reference interpreter: its signed accumulator (SPEC 1.4)
    /// for a gate channel's filter, and its layer loop for the Dense layers after the recurrent ones, run on input
    /// planes already in place.
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
        /// </summary>
        internal int RunOnPlanes(uint[] input, int[] scores)
        {
            LayerSpec[] layers = _model.Layers;
            uint[] output = _bufferB;
            for (int i = 0; i < layers.Length; i++)
            {
                RunWeighted(i, layers[i], _geometry[i], input, output, scores);
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
