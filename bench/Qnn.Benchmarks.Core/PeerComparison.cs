using Qnn.Format;
using Qnn.Onnx;
using Qnn.Runtime.Edge;
using Qnn.Runtime.Edge.Fast;

namespace Qnn.Benchmarks;

/// <summary>One engine at one batch size.</summary>
/// <param name="LatencyMs">Median wall time of one call (one image at batch 1, the whole batch otherwise).</param>
/// <param name="Memory">Peak memory of the phase that built this engine and ran it (see <see cref="PeakMemory"/>).</param>
public sealed record EngineRow(string Engine, int Batch, int Threads, double LatencyMs, double MinLatencyMs, double ImagesPerSecond, int Runs, MemoryUse Memory);

/// <summary>Everything `qnn bench compare` measured, in one process on one machine.</summary>
public sealed record PeerResult(
    string Model, int[] Input, int Classes, string FastKernel, long QnnBytes, long FloatOnnxBytes, long FloatParameters, long? ExportedOnnxBytes,
    string Images, IReadOnlyList<EngineRow> Engines, IReadOnlyList<GemmRow> Gemm, IReadOnlyDictionary<string, double> Ratios,
    string Machine, int LogicalCores, string Runtime, string OnnxRuntime, DateTime UtcDate, bool PerPhasePeakMemory, string? ExportNote);

/// <summary>
/// The measurements of issue 8: the fast edge path, the portable core and ONNX Runtime running the float network
/// of the same shape (<see cref="FloatNetwork"/>) and the exported integer graph (<see cref="OnnxExporter"/>), at
/// batch 1 and 256, then binary GEMM against ONNX Runtime MatMul on the papers' shapes. Thread counts match:
/// batch 1 is one thread for everyone (FastInterpreter.Run and the portable core use one), batch 256 and the GEMMs
/// use every core (FastInterpreter.RunBatch and ONNX Runtime with intra-op threads = cores).
/// ONNX Runtime gets its input as a ready float tensor: converting the bytes is not timed.
/// </summary>
public static class PeerComparison
{
    public const int LargeBatch = 256;

    /// <param name="images">At least 256 images of the model's shape, 8-bit pixels, one after another.</param>
    /// <param name="progress">Told the name of each step before it runs.</param>
    public static PeerResult Run(string modelName, byte[] qnnBytes, byte[] images, string imagesDescription, double budgetSeconds,
        bool gemm, Action<string>? progress = null)
    {
        progress ??= _ => { };
        QnnModel model = ModelFile.Parse(qnnBytes, modelName);
        int size = model.InputHeight * model.InputWidth * model.InputChannels, classes = model.ClassCount;
        if (images.Length < LargeBatch * size) throw new ArgumentException($"need {LargeBatch} images of {size} bytes");
        int cores = Environment.ProcessorCount;
        var rows = new List<EngineRow>();
        var scores = new int[LargeBatch * classes];
        var predicted = new int[LargeBatch];

        progress("fast edge path");
        var memory = PeakMemory.Start();
        var fast = new FastInterpreter(ModelFile.Parse(qnnBytes, modelName));
        int next = 0;
        var fast1 = Timing.Measure(() => { fast.Run(images.AsSpan(next * size, size), scores); next = (next + 1) % LargeBatch; }, budgetSeconds: budgetSeconds);
        var fastN = Timing.Measure(() => fast.RunBatch(images, LargeBatch, scores, predicted), budgetSeconds: budgetSeconds);
        var fastMemory = memory.Stop();
        rows.Add(Row("fast edge path", 1, 1, fast1, fastMemory));
        rows.Add(Row("fast edge path", LargeBatch, cores, fastN, fastMemory));

        progress("portable core");
        memory = PeakMemory.Start();
        var portable = new Interpreter(ModelFile.Parse(qnnBytes, modelName));
        var image = new byte[size];
        var portableScores = new int[classes];
        next = 0;
        var port1 = Timing.Measure(() =>
        {
            Array.Copy(images, next * size, image, 0, size);
            portable.Run(image, portableScores);
            next = (next + 1) % LargeBatch;
        }, minRuns: 3, budgetSeconds: budgetSeconds);
        rows.Add(Row("portable core", 1, 1, port1, memory.Stop()));

        var floatNet = FloatNetwork.Build(model);
        var floatInput = ToFloatNchw(images, model, LargeBatch);
        rows.AddRange(Ort<float, float>("ONNX Runtime, float network", floatNet.Bytes, FloatNetwork.InputName, floatInput,
            [model.InputChannels, model.InputHeight, model.InputWidth], FloatNetwork.OutputName, classes, cores, budgetSeconds, progress));

        long? exportedBytes = null;
        string? exportNote = null;
        try
        {
            var export = OnnxExporter.Export(model);
            exportedBytes = export.Bytes.Length;
            rows.AddRange(Ort<byte, int>("ONNX Runtime, exported .qnn graph", export.Bytes, OnnxExporter.InputName, images,
                [model.InputHeight, model.InputWidth, model.InputChannels], OnnxExporter.ScoresName, classes, cores, budgetSeconds, progress));
        }
        catch (OnnxExportException e)
        {
            exportNote = e.Message;
        }

        var gemmRows = new List<GemmRow>();
        if (gemm)
            foreach (var shape in GemmShapes.Binary)
            {
                progress($"binary GEMM vs ONNX Runtime MatMul: {shape.Name}");
                gemmRows.Add(GemmComparison.Binary(shape, budgetSeconds));
            }

        var ratios = Ratios(rows, qnnBytes.Length, floatNet.Bytes.Length);
        return new PeerResult(modelName, [model.InputHeight, model.InputWidth, model.InputChannels], classes, fast.Kernel.ToString(),
            qnnBytes.Length, floatNet.Bytes.Length, floatNet.Parameters, exportedBytes, imagesDescription, rows, gemmRows, ratios,
            Machine.CpuModel(), cores, System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription, Machine.OnnxRuntimeVersion(),
            DateTime.UtcNow, PeakMemory.PerPhasePeak, exportNote);
    }

    /// <summary>Images as float [count, C, H, W] pixels / 255, the float network's input.</summary>
    public static float[] ToFloatNchw(byte[] images, QnnModel model, int count)
    {
        int h = model.InputHeight, w = model.InputWidth, c = model.InputChannels, size = h * w * c;
        var x = new float[count * size];
        for (int n = 0; n < count; n++)
            for (int y = 0; y < h; y++)
                for (int xx = 0; xx < w; xx++)
                    for (int ch = 0; ch < c; ch++)
                        x[n * size + (ch * h + y) * w + xx] = images[n * size + (y * w + xx) * c + ch] / 255f;
        return x;
    }

    /// <summary>An ONNX graph at batch 1 (one intra-op thread) and 256 (one per core), each session its own memory phase.</summary>
    private static IEnumerable<EngineRow> Ort<TIn, TOut>(string name, byte[] onnx, string inputName, TIn[] batchInput, long[] imageShape,
        string outputName, int classes, int cores, double budget, Action<string> progress) where TIn : unmanaged where TOut : unmanaged
    {
        int size = (int)(imageShape[0] * imageShape[1] * imageShape[2]);
        var rows = new List<EngineRow>();
        foreach (var (batch, threads) in new[] { (1, 1), (LargeBatch, cores) })
        {
            progress($"{name}, batch {batch}");
            var memory = PeakMemory.Start();
            using var ort = new OrtRunner<TIn, TOut>(onnx, threads, inputName, batchInput[..(batch * size)], [batch, .. imageShape], outputName, [batch, classes]);
            rows.Add(Row(name, batch, threads, Timing.Measure(ort.Run, budgetSeconds: budget), memory.Stop()));
        }
        return rows;
    }

    private static EngineRow Row(string engine, int batch, int threads, Timing t, MemoryUse memory) =>
        new(engine, batch, threads, t.MedianMs, t.MinMs, batch * 1000.0 / t.MedianMs, t.Runs, memory);

    private static Dictionary<string, double> Ratios(List<EngineRow> rows, long qnnBytes, long floatBytes)
    {
        EngineRow Find(string engine, int batch) => rows.Single(r => r.Engine == engine && r.Batch == batch);
        var fast1 = Find("fast edge path", 1);
        var fastN = Find("fast edge path", LargeBatch);
        var ort1 = Find("ONNX Runtime, float network", 1);
        var ortN = Find("ONNX Runtime, float network", LargeBatch);
        var port1 = Find("portable core", 1);
        return new Dictionary<string, double>
        {
            ["fast edge vs ONNX Runtime float, batch 1 latency (x faster)"] = ort1.LatencyMs / fast1.LatencyMs,
            [$"fast edge vs ONNX Runtime float, batch {LargeBatch} throughput (x)"] = fastN.ImagesPerSecond / ortN.ImagesPerSecond,
            ["portable core vs ONNX Runtime float, batch 1 latency (x faster)"] = ort1.LatencyMs / port1.LatencyMs,
            ["model bytes, float .onnx / .qnn (x smaller)"] = (double)floatBytes / qnnBytes,
            ["peak memory increase, ONNX Runtime float / fast edge, batch 1 (x)"] =
                (double)ort1.Memory.RssIncreaseBytes / Math.Max(1, fast1.Memory.RssIncreaseBytes),
        };
    }
}
