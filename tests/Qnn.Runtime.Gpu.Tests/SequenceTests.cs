using CsCheck;
using Qnn.Format;
using Qnn.Runtime.Edge;
using Qnn.Runtime.Edge.Fast;
using Qnn.TestSupport;

namespace Qnn.Runtime.Gpu.Tests;

/// <summary>
/// The GPU runtime's sequence steps against the portable interpreter (and the fast path): random sequence models of
/// every kind and bit width 1–4, batches of sequences with random resets, identical scores at every step.
/// </summary>
[Collection(CpuAcceleratorCollection.Name)]
public sealed class SequenceTests(CpuAccelerator cpu)
{
    [Fact]
    public void Every_step_of_a_batch_equals_the_portable_interpreter_and_the_fast_path()
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            var model = RandomModels.CreateSequence(rng, maxVocabulary: 40, maxWidth: 45);
            int sequences = rng.Next(1, 4), classes = model.ClassCount;
            var portable = Enumerable.Range(0, sequences).Select(_ => new SequenceInterpreter(model)).ToArray();
            var fast = new FastSequenceInterpreter(model, sequences);
            using var gpu = new GpuSequenceInterpreter(cpu.Device, model, sequences);
            var expected = new int[classes];
            var onGpu = new int[sequences * classes];
            var onFast = new int[sequences * classes];
            var tokens = new int[sequences];
            foreach (var step in RandomModels.TokenSteps(rng, model, sequences, rng.Next(1, 21)))
            {
                for (int s = 0; s < sequences; s++)
                {
                    tokens[s] = step[s] >= 0 ? step[s] : -1 - step[s];
                    if (step[s] < 0) { portable[s].Reset(); fast.Reset(s); gpu.Reset(s); }
                }
                gpu.Step(tokens, onGpu);
                fast.Step(tokens, onFast);
                Assert.Equal(onFast, onGpu);
                for (int s = 0; s < sequences; s++)
                {
                    portable[s].Step(tokens[s], expected);
                    Assert.Equal(expected, onGpu.AsSpan(s * classes, classes).ToArray());
                }
            }
        }, iter: 25, threads: 1);
    }
}
