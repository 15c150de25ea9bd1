using CsCheck;
using Qnn.Format;
using Qnn.Runtime.Edge.Fast;
using Qnn.TestSupport;

namespace Qnn.Runtime.Edge.Tests;

/// <summary>The fast path's sequence steps give the portable interpreter's scores at every step, with every kernel this machine has.</summary>
public class FastSequenceTests
{
    public static TheoryData<FastKernel> Kernels() => FastInterpreterTests.Kernels();

    [Theory]
    [MemberData(nameof(Kernels))]
    public void Every_step_of_a_batch_of_sequences_equals_the_portable_interpreter(FastKernel kernel)
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            var model = RandomModels.CreateSequence(rng);
            int sequences = rng.Next(1, 6), classes = model.ClassCount;
            var portable = Enumerable.Range(0, sequences).Select(_ => new SequenceInterpreter(model)).ToArray();
            var fast = new FastSequenceInterpreter(model, sequences, kernel);
            var expected = new int[classes];
            var actual = new int[sequences * classes];
            var tokens = new int[sequences];
            foreach (var step in RandomModels.TokenSteps(rng, model, sequences, rng.Next(1, 21)))
            {
                for (int s = 0; s < sequences; s++)
                {
                    tokens[s] = step[s] >= 0 ? step[s] : -1 - step[s];
                    if (step[s] < 0) { portable[s].Reset(); fast.Reset(s); }
                }
                fast.Step(tokens, actual);
                for (int s = 0; s < sequences; s++)
                {
                    portable[s].Step(tokens[s], expected);
                    Assert.Equal(expected, actual.AsSpan(s * classes, classes).ToArray());
                }
            }
        }, iter: 100);
    }

    [Fact]
    public void A_fast_step_allocates_nothing()
    {
        var model = RandomLayers.SequenceModel(new Random(2), 300, 64, [LayerKind.Lstm], 96, 2, 2, 2, 2);
        var fast = new FastSequenceInterpreter(model);
        var scores = new int[300];
        fast.Step(1, scores);
        Assert.Equal(0, Allocations.Least(() => fast.Step(7, scores)));
    }
}
