using Microsoft.ML.OnnxRuntime;

namespace Qnn.Benchmarks;

/// <summary>
/// An ONNX Runtime session with its input and output tensors allocated once, so that a timed call is only
/// <c>session.Run</c>: what a deployment that reuses its buffers pays. Threads are stated, never left to defaults:
/// intra-op threads as given, one inter-op thread, sequential execution, all graph optimizations.
/// </summary>
public sealed class OrtRunner<TIn, TOut> : IDisposable where TIn : unmanaged where TOut : unmanaged
{
    private readonly SessionOptions _options;
    private readonly InferenceSession _session;
    private readonly RunOptions _run = new();
    private readonly OrtValue[] _inputs;
    private readonly OrtValue _output;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;

    public OrtRunner(byte[] model, int threads, string inputName, TIn[] input, long[] inputShape, string outputName, long[] outputShape)
        : this(model, threads, [inputName], [input], [inputShape], outputName, outputShape) { }

    /// <summary>A graph of several inputs, all of <typeparamref name="TIn"/>; <see cref="Input"/> is the first.</summary>
    public OrtRunner(byte[] model, int threads, string[] inputNames, TIn[][] inputs, long[][] inputShapes, string outputName, long[] outputShape)
    {
        Threads = threads;
        _options = Options(threads);
        _session = new InferenceSession(model, _options);
        Input = inputs[0];
        Output = new TOut[outputShape.Aggregate(1L, (a, b) => a * b)];
        _inputs = inputs.Select((x, i) => OrtValue.CreateTensorValueFromMemory(x, inputShapes[i])).ToArray();
        _output = OrtValue.CreateTensorValueFromMemory(Output, outputShape);
        _inputNames = inputNames;
        _outputNames = [outputName];
    }

    public int Threads { get; }

    /// <summary>The input buffer; change its contents between calls to feed new data.</summary>
    public TIn[] Input { get; }

    /// <summary>The output buffer that every call fills.</summary>
    public TOut[] Output { get; }

    public void Run() => _session.Run(_run, _inputNames, _inputs, _outputNames, [_output]);

    public static SessionOptions Options(int threads) => new()
    {
        IntraOpNumThreads = threads,
        InterOpNumThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    };

    public void Dispose()
    {
        foreach (var input in _inputs) input.Dispose();
        _output.Dispose();
        _run.Dispose();
        _session.Dispose();
        _options.Dispose();
    }
}
