using Qnn.Format;
using Qnn.Gpu;
using Qnn.Runtime.Edge;
using Qnn.Runtime.Gpu;

namespace Qnn.Benchmarks.Gpu;

/// <summary>
/// A whole network on the GPU, per kernel version (llm.c style): each version is first run on validation images
/// and its scores compared with the portable interpreter's; only a version that matches is timed. Times cover
/// the device work of one batch already on the device (bit-planes to scores), not the copies.
/// </summary>
public static class NetworkBench
{
    public sealed record Row(string Version, bool Valid, string? Problem, int Batch, double MsPerBatch, double SamplesPerSecond,
        double? SpeedupOverBaseline, double BinaryOpsPerSecond, double? PeakShare, int Runs);

    public sealed record Report(string Device, string Model, string ModelId, int ValidationSamples, long BinaryOpsPerSample, string OpsDefinition,
        string Peak, IReadOnlyList<Row> Versions);

    public const string OpsDefinition = "2 x (1-bit multiply-accumulates of every Dense/Conv2D layer: output pixels before the pool x filters x KH x KW x C x weight bits x input bits)";

    /// <summary>2 × the 1-bit MACs of one sample: every plane pair of a multi-bit layer is a full binary product.</summary>
    public static long BinaryOpsPerSample(QnnModel m) => 2 * m.Layers.Where(l => l.Kind != LayerKind.MaxPool2D)
        .Sum(l => (long)l.ConvOutH * l.ConvOutW * l.OutC * l.KernelH * l.KernelW * l.InC * l.WeightBits * l.InputBits);

    public static Report Run(GpuDevice device, QnnModel model, string modelName, byte[] images, int imageCount, int validation,
        int batch, double minSeconds, IEnumerable<KernelVersion> versions, Action<string>? progress = null)
    {
        int bytes = model.InputHeight * model.InputWidth * model.InputChannels;
        validation = Math.Min(validation, imageCount);
        var expected = new int[validation * model.ClassCount];
        var interpreter = new Interpreter(model);
        var scores = new int[model.ClassCount];
        for (int n = 0; n < validation; n++)
        {
            interpreter.Run(images.AsSpan(n * bytes, bytes).ToArray(), scores);
            scores.CopyTo(expected, n * model.ClassCount);
        }
        using var gpu = new GpuInterpreter(device, model, batch);
        int timed = Math.Min(gpu.MaxBatch, imageCount);
        long ops = BinaryOpsPerSample(model);
        PopcountPeak peak = PopcountPeak.Of(device);
        var rows = new List<Row>();
        double? baseline = null;
        foreach (KernelVersion v in versions)
        {
            progress?.Invoke(v.Name());
            string? problem = null;
            try
            {
                var actual = new int[validation * model.ClassCount];
                gpu.RunBatch(images, validation, actual, new int[validation], v);
                int bad = Enumerable.Range(0, validation).Count(n => !actual.AsSpan(n * model.ClassCount, model.ClassCount).SequenceEqual(expected.AsSpan(n * model.ClassCount, model.ClassCount)));
                if (bad > 0) problem = $"{bad} of {validation} validation samples differ from the portable interpreter: not timed";
            }
            catch (NotSupportedException e) { problem = e.Message; }
            if (problem is not null)
            {
                rows.Add(new Row(v.Name(), false, problem, timed, 0, 0, null, 0, null, 0));
                continue;
            }
            gpu.Upload(images, timed);
            var (seconds, runs) = Timing.OfDeviceStep(() => gpu.Forward(v), minSeconds);
            double perSecond = timed / seconds;
            if (v == KernelVersion.FloatBaseline) baseline = perSecond;
            rows.Add(new Row(v.Name(), true, null, timed, Math.Round(seconds * 1e3, 4), Math.Round(perSecond, 1),
                baseline is { } b ? Math.Round(perSecond / b, 2) : null, perSecond * ops,
                peak.OpsPerSecond is { } p ? Math.Round(perSecond * ops / p, 5) : null, runs));
        }
        return new Report(device.Name, modelName, $"{model.ModelId:x16}", validation, ops, OpsDefinition, peak.Formula, rows);
    }
}
