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
    private readonly OrtValue _input;
    private readonly OrtValue _output;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;

    public OrtRunner(byte[] model, int threads, string inputName, TIn[] input, long[] inputShape, string outputName, long[] outputShape)
    {
        Threads = threads;
        _options = Options(threads);
        _session = new InferenceSession(model, _options);
        Input = input;
        Output = new TOut[outputShape.Aggregate(1L, (a, b) => a * b)];
        _input = OrtValue.CreateTensorValueFromMemory(input, inputShape);
        _output = OrtValue.CreateTensorValueFromMemory(Output, outputShape);
        _inputNames = [inputName];
        _outputNames = [outputName];
    }

    public int Threads { get; }

    /// <summary>The input buffer; change its contents between calls to feed new data.</summary>
    public TIn[] Input { get; }

    /// <summary>The output buffer that every call fills.</summary>
    public TOut[] Output { get; }

    public void Run() => _session.Run(_run, _inputNames, [_input], _outputNames, [_output]);

    public static SessionOptions Options(int threads) => new()
    {
        IntraOpNumThreads = threads,
        InterOpNumThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
    };

    public void Dispose()
    {
        _input.Dispose();
        _output.Dispose();
        _run.Dispose();
        _session.Dispose();
        _options.Dispose();
    }
}
