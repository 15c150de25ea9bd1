using Qnn.Format;
using Qnn.Runtime.Edge;
using Qnn.Trainer.Export;
using Qnn.Trainer.Training;
using Qnn.Verification;

namespace Qnn.Trainer.Tests;

/// <summary>A short real run on MNIST, exported through the pipeline the CLI uses and checked end to end.</summary>
public class TrainingRunTests
{
    [Fact]
    public void Short_mnist_run_exports_a_model_whose_deployed_accuracy_is_the_trainers()
    {
        var data = TestData.Mnist;
        var options = new TrainOptions { Arch = "mlp-micro", Width = 128, Epochs = 3, TrainLimit = 12000, Validation = 2000, Seed = 11, Lr = 0.003f, LrEnd = 3e-4f };
        using var trainer = new Training.TrainingLoop(options, data.Train);
        var outcome = trainer.Run();
        string path = Path.Combine(Path.GetTempPath(), $"qnn-trainer-test-{Environment.ProcessId}.qnn");
        try
        {
            var summary = TrainPipeline.Finish(trainer, outcome, data.Test, path, DeployedEvaluation.Accuracy);
            Assert.True(summary.TestAccuracy >= 0.90, $"deployed test accuracy {summary.TestAccuracy:P2} is under 90%");
            Assert.True(Math.Abs(summary.TestAccuracy - summary.FloatAccuracy) <= 0.001,
                $"deployed {summary.TestAccuracy:P2} and float {summary.FloatAccuracy:P2} differ by more than 0.1 pp");

            var model = ModelFile.Load(path);
            Assert.Equal(TrainPipeline.F(summary.TestAccuracy), model.GetMetadata("test_accuracy"));
            Assert.Equal("mnist", model.GetMetadata("dataset"));
            Assert.Equal("11", model.GetMetadata("seed"));
            Assert.Equal("28x28x1", model.GetMetadata(ModelExporter.ImageShapeKey));
            Assert.Equal(1, model.InputHeight);   // the dense first layer reads the image as one 784-vector

            // Every test image: the trainer's integer evaluation, the portable and the fast interpreter agree.
            var exported = ModelExporter.Export(trainer.Network, "mnist");
            var report = Verifier.Verify(model, path, data.Test,
                [new PortableRuntime(model), new FastRuntime(model), new TrainerRuntime(trainer.Network, exported)], layers: false, progress: null);
            Assert.True(report.Match, string.Join("; ", report.Runtimes.Where(r => r.Mismatches > 0)
                .Select(r => $"{r.Runtime}: {r.Mismatches} differ, first {r.FirstMismatches[0]}")));
            Assert.Equal(data.Test.Count, report.Samples);
            Assert.Equal(report.Runtimes[0].Digest, report.Runtimes[2].Digest);
            Assert.True(new FileInfo(path).Length < 40_000);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
