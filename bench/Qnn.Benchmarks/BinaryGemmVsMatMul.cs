using BenchmarkDotNet.Attributes;

namespace Qnn.Benchmarks;

/// <summary>
/// Binary GEMM (the fast edge path's XNOR-popcount kernel) against ONNX Runtime's float32 MatMul on the same ±1
/// operands, all cores each, on the papers' layer shapes (<see cref="GemmShapes.Binary"/>).
/// </summary>
[Config(typeof(BenchConfig))]
public class BinaryGemmVsMatMul
{
    private BinaryGemm _binary = null!;
    private OrtRunner<float, float> _ort = null!;

    public static IEnumerable<string> Shapes => GemmShapes.Binary.Select(s => s.Name);

    [ParamsSource(nameof(Shapes))]
    public string Shape { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var s = GemmShapes.Binary.Single(x => x.Name == Shape);
        var rng = new Random(1);
        var a = Enumerable.Range(0, s.M * s.K).Select(_ => rng.Next(2) == 0 ? -1f : 1f).ToArray();
        var b = Enumerable.Range(0, s.K * s.N).Select(_ => rng.Next(2) == 0 ? -1f : 1f).ToArray();
        _binary = new BinaryGemm(a, b, s.M, s.N, s.K);
        _ort = new OrtRunner<float, float>(GemmComparison.MatMulModel(b, s.K, s.N), Environment.ProcessorCount, "a", a, [s.M, s.K], "c", [s.M, s.N]);
    }

    [GlobalCleanup]
    public void Cleanup() => _ort.Dispose();

    [Benchmark(Description = "binary GEMM (XNOR-popcount)")]
    public void Binary() => _binary.Run();

    [Benchmark(Baseline = true, Description = "ONNX Runtime MatMul (float32)")]
    public void OrtMatMul() => _ort.Run();
}
