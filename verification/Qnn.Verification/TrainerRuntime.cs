using Qnn.Trainer;
using Qnn.Trainer.Export;

namespace Qnn.Verification;

/// <summary>
/// The trainer's own integer evaluation (<see cref="IntegerEvaluation"/>): the training graph with every batch norm
/// and quantizer replaced by the exported thresholds and the head by the exported integer scores. It shares no code
/// with the runtimes, so its agreement with the reference checks the weight packing and the folding from a second
/// side. It gives the class scores only.
/// </summary>
public sealed class TrainerRuntime(Network network, ExportedModel exported) : IntegerRuntime
{
    public override string Name => "trainer (integer evaluation)";

    public override void Run(ReadOnlySpan<byte> images, int count, int[] scores, uint[][]? layers)
    {
        if (layers is not null) throw new VerificationException("trainer: the integer evaluation gives the class scores only; compare layers without the trainer");
        if (count == 0) return;
        var (trainerScores, _) = IntegerEvaluation.Run(network, exported, images.ToArray(), 0, count);
        trainerScores.AsSpan(0, count * network.ClassCount).CopyTo(scores);
    }
}
