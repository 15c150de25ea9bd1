using BenchmarkDotNet.Attributes;
using Qnn.Format;
using Qnn.Onnx;
using Qnn.Runtime.Edge;
using Qnn.Runtime.Edge.Fast;

namespace Qnn.Benchmarks;

/// <summary>
/// One call of each engine on the MNIST MLP (784-1024-1024-1024-10): the fast edge path against ONNX Runtime
/// running the float network of the same shape, at batch 1 (one thread each) and 256 (all cores each).
/// </summary>
[Config(typeof(BenchConfig))]
public class EdgeVsOnnxRuntime
{
    private FastInterpreter _fast = null!;
    private OrtRunner<float, float> _ort = null!;
    private byte[] _images = null!;
    private int[] _scores = null!;
    private int[] _predicted = null!;

    [Params(1, 256)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        QnnModel model = BenchModels.MnistMlp();
        _images = BenchModels.Images(model, Batch);
        _fast = new FastInterpreter(model);
        _scores = new int[Batch * model.ClassCount];
        _predicted = new int[Batch];
        var network = FloatNetwork.Build(model);
        int threads = Batch == 1 ? 1 : Environment.ProcessorCount;
        _ort = new OrtRunner<float, float>(network.Bytes, threads, FloatNetwork.InputName, PeerComparison.ToFloatNchw(_images, model, Batch),
            [Batch, 784, 1, 1], FloatNetwork.OutputName, [Batch, model.ClassCount]);
    }

    [GlobalCleanup]
    public void Cleanup() => _ort.Dispose();

    [Benchmark(Description = "fast edge path")]
    public void FastEdge()
    {
        if (Batch == 1) _fast.Run(_images, _scores);
        else _fast.RunBatch(_images, Batch, _scores, _predicted);
    }

    [Benchmark(Baseline = true, Description = "ONNX Runtime, float network")]
    public void OnnxRuntimeFloat() => _ort.Run();
}

/// <summary>The portable core (the microcontroller interpreter, one image at a time) on the same MLP.</summary>
[Config(typeof(BenchConfig))]
public class PortableCore
{
    private Interpreter _interpreter = null!;
    private byte[] _image = null!;
    private int[] _scores = null!;

    [GlobalSetup]
    public void Setup()
    {
        QnnModel model = BenchModels.MnistMlp();
        _interpreter = new Interpreter(model);
        _image = BenchModels.Images(model, 1);
        _scores = new int[model.ClassCount];
    }

    [Benchmark(Description = "portable core, batch 1")]
    public int Run() => _interpreter.Run(_image, _scores);
}
