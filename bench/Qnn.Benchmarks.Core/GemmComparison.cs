using Qnn.Onnx;
using Qnn.Trainer.Backends;

namespace Qnn.Benchmarks;

/// <summary>One GEMM shape timed with one of our kernels and with ONNX Runtime's MatMul on the same operands.</summary>
/// <param name="OursGops">Our kernel's operations per second (binary MACs ×2 for XNOR-popcount, FLOPs for float), in 10^9.</param>
/// <param name="OrtGflops">ONNX Runtime MatMul's float32 GFLOP/s.</param>
/// <param name="Speedup">ONNX Runtime's median time over ours: above 1, ours is faster.</param>
/// <param name="OrtInputGflops">ONNX Runtime with B a graph input instead of an initializer: packed on every run, as the
/// trainer's weights, which change every step, would be (0 where not measured).</param>
/// <param name="SpeedupInput">That run's median time over ours.</param>
/// <param name="Transposes">Which operands are stored transposed: NN, TN or NT (<see cref="GemmShape.Transposes"/>).</param>
/// <param name="MaxAbsDifference">Largest |ours − ONNX Runtime| over all of C: 0 for the binary GEMM (both exact integers).</param>
public sealed record GemmRow(string Shape, int M, int N, int K, int Threads, string Kernel, double OursMs, double OrtMs,
    double OursGops, double OrtGflops, double Speedup, double MaxAbsDifference, int OursRuns, int OrtRuns, string Transposes, double OrtInputGflops = 0, double SpeedupInput = 0);

/// <summary>Our GEMMs against ONNX Runtime's MatMul (float32, MLAS) on the same operands and thread count.</summary>
public static class GemmComparison
{
    /// <summary>A one-node ONNX graph: C = MatMul(A, B) with B [K×N] as an initializer (the layer's weights).</summary>
    public static byte[] MatMulModel(float[] b, int k, int n)
    {
        var g = new OnnxGraph("matmul");
        string a = g.Input("a", OnnxType.Float, "m", k);
        g.Node("MatMul", [a, g.Constant("b", b, k, n)], output: "c");
        g.Output("c", OnnxType.Float, "m", n);
        return g.ToModel(OnnxExporter.Opset, "Qnn.Edge bench", "0");
    }

    /// <summary>±1 operands: the binary GEMM and ONNX Runtime multiply the same matrices and must agree exactly.</summary>
    public static GemmRow Binary(GemmShape s, double budgetSeconds, int seed = 1)
    {
        var (a, b) = Operands(s, seed, signs: true);
        var ours = new BinaryGemm(a, b, s.M, s.N, s.K);
        using var ort = new OrtRunner<float, float>(MatMulModel(b, s.K, s.N), Environment.ProcessorCount, "a", a, [s.M, s.K], "c", [s.M, s.N]);
        var tOurs = Timing.Measure(ours.Run, budgetSeconds: budgetSeconds);
        var tOrt = Timing.Measure(ort.Run, budgetSeconds: budgetSeconds);
        double diff = 0;
        for (int i = 0; i < ours.C.Length; i++) diff = Math.Max(diff, Math.Abs(ours.C[i] - ort.Output[i]));
        return Row(s, ours.Kernel.ToString() + " XNOR-popcount", tOurs, tOrt, diff);
    }

    /// <summary>
    /// C = op(A) · op(B) as one ONNX Gemm node (transA, transB as the shape says); B [K×N] or [N×K] an initializer that
    /// ONNX Runtime packs once when the session loads, or, with <paramref name="bInput"/>, a second input that it packs
    /// on every run. Stored shapes are fixed: A [M×K] or [K×M].
    /// </summary>
    public static byte[] GemmModel(GemmShape s, float[] b, bool bInput = false)
    {
        var g = new OnnxGraph("gemm");
        string a = s.TransposeA ? g.Input("a", OnnxType.Float, s.K, s.M) : g.Input("a", OnnxType.Float, s.M, s.K);
        long[] bShape = s.TransposeB ? [s.N, s.K] : [s.K, s.N];
        string bName = bInput ? g.Input("b", OnnxType.Float, bShape[0], bShape[1]) : g.Constant("b", b, bShape);
        g.Node("Gemm", [a, bName], [OnnxAttribute.Of("transA", s.TransposeA ? 1L : 0L), OnnxAttribute.Of("transB", s.TransposeB ? 1L : 0L)], output: "c");
        g.Output("c", OnnxType.Float, s.M, s.N);
        return g.ToModel(OnnxExporter.Opset, "Qnn.Edge bench", "0");
    }

    /// <summary>
    /// The trainer's float GEMM (<see cref="CpuGemm"/>) against ONNX Runtime's Gemm with the same transposes, with B an
    /// initializer (packed once, as the issue measured) and with B an input (packed every run, as the trainer must:
    /// its weights change every step), all on every core, timed in turns (<see cref="Timing.Alternate"/>) so that all
    /// see the same load.
    /// </summary>
    public static GemmRow TrainerCpu(GemmShape s, double budgetSeconds, int seed = 1)
    {
        var (a, b) = Operands(s, seed, signs: false);
        var c = new float[s.M * s.N];
        long[] aShape = s.TransposeA ? [s.K, s.M] : [s.M, s.K];
        long[] bShape = s.TransposeB ? [s.N, s.K] : [s.K, s.N];
        int threads = Environment.ProcessorCount;
        using var ort = new OrtRunner<float, float>(GemmModel(s, b), threads, "a", a, aShape, "c", [s.M, s.N]);
        using var ortInput = new OrtRunner<float, float>(GemmModel(s, b, bInput: true), threads, ["a", "b"], [a, b], [aShape, bShape], "c", [s.M, s.N]);
        var t = Timing.Alternate(budgetSeconds, 5, () => CpuGemm.Multiply(a, s.TransposeA, b, s.TransposeB, c, s.M, s.N, s.K), ort.Run, ortInput.Run);
        double diff = 0;
        for (int i = 0; i < c.Length; i++) diff = Math.Max(diff, Math.Max(Math.Abs(c[i] - ort.Output[i]), Math.Abs(c[i] - ortInput.Output[i])));
        return Row(s, $"Qnn.Trainer CpuGemm ({(CpuGemm.Wide ? "Vector512" : "Vector256")} FMA)", t[0], t[1], diff) with
        {
            OrtInputGflops = s.Operations / (t[2].MedianMs * 1e6),
            SpeedupInput = t[2].MedianMs / t[0].MedianMs,
        };
    }

    private static GemmRow Row(GemmShape s, string kernel, Timing ours, Timing ort, double diff) =>
        new(s.Name, s.M, s.N, s.K, Environment.ProcessorCount, kernel, ours.MedianMs, ort.MedianMs,
            s.Operations / (ours.MedianMs * 1e6), s.Operations / (ort.MedianMs * 1e6), ort.MedianMs / ours.MedianMs, diff, ours.Runs, ort.Runs, s.Transposes);

    private static (float[] A, float[] B) Operands(GemmShape s, int seed, bool signs)
    {
        var rng = new Random(seed);
        float Next() => signs ? (rng.Next(2) == 0 ? -1f : 1f) : (float)(rng.NextDouble() * 2 - 1);
        var a = new float[s.M * s.K];
        var b = new float[s.K * s.N];
        for (int i = 0; i < a.Length; i++) a[i] = Next();
        for (int i = 0; i < b.Length; i++) b[i] = Next();
        return (a, b);
    }
}
