using Qnn.Datasets;
using Qnn.Format;
using Qnn.Runtime.Edge.Fast;

namespace Qnn.Verification;

/// <summary>Accuracy of a deployed model on a data set, measured with runtime-edge's fast interpreter.</summary>
public sealed record DeployedResult(int Count, int Correct, int[] Predictions, int[] Scores, int[,] Confusion)
{
    public double Accuracy => Count == 0 ? 0 : (double)Correct / Count;
}

public static class DeployedEvaluation
{
    /// <summary>Runs the first <paramref name="limit"/> samples (all when ≤ 0) through <see cref="FastInterpreter"/>.</summary>
    public static DeployedResult Run(QnnModel model, Dataset data, int limit = 0)
    {
        if (!Verifier.Reads(model, data))
            throw new InvalidDataException($"the model takes {model.InputHeight}x{model.InputWidth}x{model.InputChannels} images, the data set has {data.Height}x{data.Width}x{data.Channels}");
        int count = limit > 0 ? Math.Min(limit, data.Count) : data.Count;
        int classes = model.ClassCount;
        var scores = new int[count * classes];
        var predictions = new int[count];
        new FastInterpreter(model).RunBatch(data.Pixels.AsSpan(0, count * data.SampleBytes), count, scores, predictions);
        var confusion = new int[classes, classes];
        int correct = 0;
        for (int i = 0; i < count; i++)
        {
            int label = data.Labels[i];
            if (label >= classes) throw new InvalidDataException($"label {label} of sample {i} is not below the model's {classes} classes");
            confusion[label, predictions[i]]++;
            if (predictions[i] == label) correct++;
        }
        return new DeployedResult(count, correct, predictions, scores, confusion);
    }

    /// <summary>The deployed test accuracy that the trainer's pipeline records (TrainPipeline.Finish).</summary>
    public static double Accuracy(QnnModel model, Dataset data) => Run(model, data).Accuracy;
}
