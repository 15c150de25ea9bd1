using Qnn.Trainer.Training;

namespace Qnn.Trainer.Tests;

/// <summary>`--preset` (the papers' runs) and the budgets that shorten them without changing them.</summary>
public class PresetTests
{
    [Fact]
    public void Paper_mnist_is_the_theano_run()
    {
        var o = Presets.Apply("paper-mnist", new TrainOptions { Seed = 9 }, epochs: null, minutes: 0);
        Assert.Equal(("mlp", 4096, 100, 1000, 1000), (o.Arch, o.Width, o.Batch, o.Epochs, o.ScheduleEpochs));
        Assert.Equal((0.003f, 3e-7f, 0.2f, 0.5f, 0, 10_000), (o.Lr, o.LrEnd, o.InputDropout, o.HiddenDropout, o.Shift, o.Validation));
        Assert.Equal(("squared_hinge", "adam", "exact", 32, 9), (o.Loss, o.Optimizer, o.BatchNorm, o.GradBits, o.Seed));
        var torch = Presets.Apply("paper-mnist-torch", new TrainOptions(), null, 0);
        Assert.Equal((2048, "shift", "adamax-shift", 0f, 1f / 1024), (torch.Width, torch.BatchNorm, torch.Optimizer, torch.HiddenDropout, torch.Lr));
        o.Validate();
        torch.Validate();
    }

    [Fact]
    public void The_convnet_presets_are_the_theano_cifar10_and_svhn_runs_on_the_callers_images()
    {
        var c = Presets.Apply("paper-cifar10", new TrainOptions { Dataset = "folder:x", ImageSize = "32x32", Channels = 3 }, null, 0);
        Assert.Equal(("paper-cifar10", 128, 50, 500, 500), (c.Arch, c.Width, c.Batch, c.Epochs, c.ScheduleEpochs));
        Assert.Equal((0.001f, 3e-7f, 0f, 0f, 0, 5_000), (c.Lr, c.LrEnd, c.InputDropout, c.HiddenDropout, c.Shift, c.Validation));
        Assert.Equal(("folder:x", "32x32", 3), (c.Dataset, c.ImageSize, c.Channels));
        var s = Presets.Apply("paper-svhn", new TrainOptions(), null, 0);
        Assert.Equal(("paper-svhn", 64, 50, 200, 6_000), (s.Arch, s.Width, s.Batch, s.Epochs, s.Validation));
        c.Validate();
        s.Validate();
    }

    [Fact]
    public void Epochs_stop_a_preset_early_and_keep_its_learning_rates()
    {
        var full = Presets.Apply("paper-mnist", new TrainOptions(), null, 0);
        var short20 = Presets.Apply("paper-mnist", new TrainOptions(), epochs: 20, minutes: 0);
        Assert.Equal(20, short20.Epochs);
        Assert.Equal(full with { Epochs = 20 }, short20);
        for (int e = 0; e < 20; e++) Assert.Equal(full.LearningRate(e), short20.LearningRate(e));
        Assert.Equal(3e-7f, full.LearningRate(999), 1e-12f);
        // Without a preset the schedule spans --epochs, as before (model ids unchanged).
        var plain = new TrainOptions { Epochs = 5 };
        Assert.Equal(plain.LrEnd, plain.LearningRate(4), 1e-9f);
    }

    [Fact]
    public void Minutes_stop_at_the_first_epoch_boundary_after_the_budget()
    {
        var options = new TrainOptions
        {
            Arch = "mlp-micro", Width = 16, Epochs = 4, Batch = 50, TrainLimit = 200, Validation = 100, Minutes = 1e-9, Shift = 0,
        };
        string path = Path.Combine(Path.GetTempPath(), $"qnn-minutes-{Environment.ProcessId}.ckpt");
        try
        {
            using (var trainer = new TrainingLoop(options, TestData.Mnist.Train) { CheckpointPath = path })
            {
                var outcome = trainer.Run();
                Assert.Single(outcome.History);
                Assert.Equal(1, outcome.BestEpoch);
            }
            // The budget is not a hyper-parameter: the run resumes with another one and goes on to the last epoch.
            using var resumed = new TrainingLoop(options with { Minutes = 0 }, TestData.Mnist.Train) { CheckpointPath = path };
            Assert.Equal(4, resumed.Run(resume: true).History.Count);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
