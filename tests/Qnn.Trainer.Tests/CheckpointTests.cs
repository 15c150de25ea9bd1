using Qnn.Trainer.Training;

namespace Qnn.Trainer.Tests;

/// <summary>A run stopped mid-epoch and resumed from its checkpoint ends bit for bit as an uninterrupted run.</summary>
public class CheckpointTests
{
    private static TrainOptions Options => new()
    {
        Arch = "mlp", Width = 40, Epochs = 3, Batch = 50, TrainLimit = 1000, Validation = 200, Seed = 21,
        InputDropout = 0.1f, HiddenDropout = 0.2f, ActBits = 2, Shift = 2,
    };

    private static float[] Parameters(Training.TrainingLoop t) => t.Network.Parameters
        .SelectMany(p => { var a = new float[p.Value.Length]; t.Network.Backend.Download(p.Value, a); return a; })
        .Concat(t.Network.State.SelectMany(x => { var a = new float[x.Length]; t.Network.Backend.Download(x, a); return a; }))
        .ToArray();

    /// <summary>Stochastic binarization draws from (seed, layer, step, element): a resumed run draws the same bits.</summary>
    private static TrainOptions OptionsFor(string actQuant) => actQuant == "stochastic" ? Options with { ActBits = 1, ActQuant = actQuant } : Options;

    private static (float[] Params, List<EpochRecord> History) Uninterrupted(TrainOptions options)
    {
        var data = TestData.Mnist;
        using var t = new Training.TrainingLoop(options, data.Train);
        var outcome = t.Run();
        return (Parameters(t), outcome.History);
    }

    [Theory]
    [InlineData(false, "odd")]
    [InlineData(true, "odd")]
    [InlineData(true, "stochastic")]
    public void Resumed_run_is_bit_identical(bool checkpointOnCancel, string actQuant)
    {
        var data = TestData.Mnist;
        var options = OptionsFor(actQuant);
        var (expected, expectedHistory) = Uninterrupted(options);
        string path = Path.Combine(Path.GetTempPath(), $"qnn-ckpt-{Environment.ProcessId}-{checkpointOnCancel}-{actQuant}.ckpt");
        try
        {
            using (var cts = new CancellationTokenSource())
            using (var t = new Training.TrainingLoop(options, data.Train) { CheckpointPath = path, CheckpointOnCancel = checkpointOnCancel })
            {
                // Stop in the middle of the second epoch (20 batches per epoch).
                var progress = new Stop(p => { if (p.Epoch == 1 && p.Batch == 7) cts.Cancel(); });
                Assert.Throws<OperationCanceledException>(() => t.Run(progress, cts.Token));
            }
            var header = Checkpoint.ReadHeader(path);
            Assert.Equal(checkpointOnCancel ? (1, 7) : (1, 0), (header.Epoch, header.Batch));
            using var resumed = new Training.TrainingLoop(options, data.Train) { CheckpointPath = path };
            var outcome = resumed.Run(resume: true);
            Assert.Equal(expected, Parameters(resumed));
            Assert.Equal(expectedHistory.Select(h => h with { Seconds = 0 }), outcome.History.Select(h => h with { Seconds = 0 }));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Resume_refuses_a_checkpoint_of_other_options()
    {
        var data = TestData.Mnist;
        string path = Path.Combine(Path.GetTempPath(), $"qnn-ckpt-{Environment.ProcessId}-other.ckpt");
        try
        {
            using (var t = new Training.TrainingLoop(Options with { Epochs = 1 }, data.Train) { CheckpointPath = path }) t.Run();
            using var other = new Training.TrainingLoop(Options with { Epochs = 1, Seed = 22 }, data.Train) { CheckpointPath = path };
            var e = Assert.Throws<InvalidDataException>(() => other.Run(resume: true));
            Assert.Contains(path, e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class Stop(Action<TrainProgress> f) : IProgress<TrainProgress>
    {
        public void Report(TrainProgress value) => f(value);
    }
}
