using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using Qnn.Gpu;
using Qnn.Trainer.Backends;
using Qnn.Trainer.Gpu.Kernels;
using Qnn.Trainer.LowPrecision;
using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.Gpu;

/// <summary>
/// The trainer's backend on an ILGPU accelerator (CUDA, OpenCL, or the CPU accelerator in tests): the kernels of
/// <see cref="IBackend"/> and <see cref="ILowPrecisionBackend"/>, each computing what the CPU backend computes with
/// the same float operations in the same order, so that layers, losses, optimizers and the training loop are
/// written once. Chosen with <c>--backend ilgpu --accelerator cuda|opencl|cpu</c>.
/// </summary>
public sealed class IlgpuBackend : IBackend, ILowPrecisionBackend
{
    private static readonly ConditionalWeakTable<Accelerator, TrainKernels> Compiled = new();

    private readonly GpuDevice device;
    private readonly bool ownsDevice;
    private readonly Accelerator acc;
    private readonly TrainKernels k;
    private MemoryBuffer1D<double, Stride1D.Dense>? doubles1, doubles2;
    private MemoryBuffer1D<float, Stride1D.Dense>? floats1, floats2;
    private MemoryBuffer1D<ulong, Stride1D.Dense>? packA, packB, levelPlanesA, levelPlanesB;
    private MemoryBuffer1D<int, Stride1D.Dense>? maxBits;

    /// <summary>A backend on <paramref name="device"/>; <paramref name="ownsDevice"/>: dispose the device with the backend.</summary>
    public IlgpuBackend(GpuDevice device, bool ownsDevice = false)
    {
        this.device = device;
        this.ownsDevice = ownsDevice;
        acc = device.Accelerator;
        lock (Compiled) k = Compiled.GetValue(acc, a => new TrainKernels(a));
    }

    /// <summary>
    /// Opens an accelerator of <paramref name="kind"/> and a backend that owns it; an absent accelerator is an
    /// <see cref="ArgumentException"/> (what the trainer reports for any backend it cannot make).
    /// </summary>
    public static IlgpuBackend Open(AcceleratorKind kind)
    {
        try
        {
            return new(GpuDevice.Open(kind), ownsDevice: true);
        }
        catch (NotSupportedException e)
        {
            throw new ArgumentException(e.Message, e);
        }
    }

    /// <summary>
    /// Registers "ilgpu" (CUDA, else OpenCL, else the CPU accelerator), "ilgpu-cuda", "ilgpu-opencl" and "ilgpu-cpu"
    /// in <see cref="Registry.Backends"/> (the trainer cannot reference this project; the CLI calls this once).
    /// </summary>
    public static void Register()
    {
        lock (Registry.Backends)
        {
            Registry.Backends["ilgpu"] = () => Open(AcceleratorKind.Auto);
            Registry.Backends["ilgpu-cuda"] = () => Open(AcceleratorKind.Cuda);
            Registry.Backends["ilgpu-opencl"] = () => Open(AcceleratorKind.OpenCL);
            Registry.Backends["ilgpu-cpu"] = () => Open(AcceleratorKind.Cpu);
        }
    }

    /// <summary>
    /// The registry name of <c>--backend</c> and <c>--accelerator</c>: "cpu", "ilgpu" (auto) or "ilgpu-KIND". A name
    /// that is not registered is reported by the trainer with the list of known ones.
    /// </summary>
    public static string BackendName(string backend, string? accelerator)
    {
        string b = backend.ToLowerInvariant();
        string a = (accelerator ?? "auto").ToLowerInvariant();
        if (!Accelerators.Contains(a))
            throw new ArgumentException($"--accelerator must be one of {string.Join(", ", Accelerators.Where(n => n != "cl"))} (not \"{accelerator}\")");
        if (a is "auto" or "") return b;
        if (b != "ilgpu") throw new ArgumentException($"--accelerator {accelerator} needs --backend ilgpu (the {backend} backend has none to choose)");
        return $"{b}-{(a == "cl" ? "opencl" : a)}";
    }

    /// <summary>The values of <c>--accelerator</c> (cl is opencl's short name).</summary>
    public static readonly string[] Accelerators = ["auto", "cuda", "opencl", "cl", "cpu"];

    public string Name => "ilgpu-" + acc.AcceleratorType.ToString().ToLowerInvariant();

    /// <summary>The device (its name and any fallback notice, for the CLI).</summary>
    public GpuDevice Device => device;

    private static ArrayView<float> V(Tensor t) =>
        t is IlgpuTensor g ? g.View : throw new ArgumentException($"{t} does not belong to the ILGPU backend");

    public Tensor Allocate(params int[] shape) => new IlgpuTensor(acc, shape);

    public void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        if (source.Length == 0) return;
        ((IlgpuTensor)destination).View.SubView(0, source.Length).CopyFromCPU(source);
    }

    public void Download(Tensor source, Span<float> destination)
    {
        if (destination.Length == 0) return;
        acc.Synchronize();
        ((IlgpuTensor)source).View.SubView(0, destination.Length).CopyToCPU(destination);
    }

    public void Copy(Tensor source, Tensor destination, int count)
    {
        if (count == 0) return;
        ((IlgpuTensor)source).View.SubView(0, count).CopyTo(((IlgpuTensor)destination).View.SubView(0, count));
    }

    public void Fill(Tensor tensor, float value)
    {
        if (tensor.Length > 0) k.Fill(tensor.Length, V(tensor), value);
    }

    public void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, int m, int n, int kk, float alpha = 1f, float beta = 0f)
    {
        if (m < 0 || n < 0 || kk < 0) throw new ArgumentException("negative GEMM size");
        if ((long)m * kk > a.Length || (long)kk * n > b.Length || (long)m * n > c.Length)
            throw new ArgumentException($"GEMM {m}x{n}x{kk}: operand too small (A {a.Length}, B {b.Length}, C {c.Length})");
        if (m == 0 || n == 0) return;
        var g = new GemmArgs(m, n, kk, transposeA ? 1 : 0, transposeB ? 1 : 0, alpha, beta, TrainGemm.TileFor(acc.MaxNumThreadsPerGroup));
        k.Gemm(TrainGemm.Grid2D(g), V(a), V(b), V(c), g);
    }

    public void SignGemm(Tensor a, Tensor b, Tensor c, int m, int n, int kk)
    {
        int words = (kk + 63) >> 6;
        var pa = Scratch(ref packA, (long)m * words);
        var pb = Scratch(ref packB, (long)n * words);
        k.SignPack(m * words, V(a), pa, kk, words);
        k.SignPack(n * words, V(b), pb, kk, words);
        k.SignProduct(new Index2D(n, m), pa, pb, V(c), n, kk, words);
    }

    public void Quantize(Tensor x, Tensor y, int count, int bits)
    {
        if (count > 0) k.Quantize(count, V(x), V(y), bits);
    }

    public void QuantizeActivation(Tensor x, Tensor y, int count, int bits, ActivationQuantizer quantizer, ulong seed)
    {
        if (count > 0) k.QuantizeActivation(count, V(x), V(y), bits, (int)quantizer, seed);
    }

    public void QuantizeWeights(Tensor x, Tensor y, int count, int bits, WeightQuantizer quantizer, ulong seed)
    {
        if (count > 0) k.QuantizeWeights(count, V(x), V(y), bits, (int)quantizer, seed);
    }

    public void QuantizeBackward(Tensor x, Tensor dy, Tensor dx, int count, float scale, StraightThrough estimator)
    {
        if (count > 0) k.QuantizeBackward(count, V(x), V(dy), V(dx), scale, (int)estimator);
    }

    private static NormArgs Args(int rows, int channels, bool shared, float momentum = 0f, float epsilon = 0f) =>
        new(rows, channels, shared ? 1 : 0, momentum, epsilon, rows > 1 ? (double)rows / (rows - 1) : 1.0);

    public void BatchNormTrain(Tensor x, int rows, int channels, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor invStd,
        Tensor runningMean, Tensor runningVar, float momentum, float epsilon, bool sharedScale)
    {
        var a = Args(rows, channels, sharedScale, momentum, epsilon);
        var variance = Scratch(ref doubles1, channels);
        k.NormStatistics(channels, V(x), V(mean), variance, a);
        k.NormFinish(sharedScale ? 1 : channels, variance, V(mean), V(invStd), V(runningMean), V(runningVar), a);
        k.Normalize(rows * channels, V(x), V(mean), V(invStd), V(gamma), V(beta), V(y), a);
    }

    public void BatchNormBackward(Tensor x, Tensor dy, int rows, int channels, Tensor gamma, Tensor mean, Tensor invStd,
        Tensor dx, Tensor dGamma, Tensor dBeta, bool sharedScale)
    {
        var a = Args(rows, channels, sharedScale);
        var sumDy = Scratch(ref doubles1, channels);
        var sumDyXhat = Scratch(ref doubles2, channels);
        var meanDy = Scratch(ref floats1, channels);
        var coef = Scratch(ref floats2, channels);
        k.NormBackwardSums(channels, V(x), V(dy), V(mean), V(invStd), sumDy, sumDyXhat, a);
        k.NormBackwardFinish(channels, sumDy, sumDyXhat, V(dGamma), V(dBeta), meanDy, coef, a);
        k.NormBackwardDx(rows * channels, V(x), V(dy), V(mean), V(invStd), V(gamma), meanDy, coef, V(dx), a);
    }

    public void ScaleShift(Tensor x, int rows, int channels, Tensor scale, Tensor shift, Tensor y) =>
        k.ScaleShift(rows * channels, V(x), V(scale), V(shift), V(y), channels);

    public void Im2Col(Tensor x, ConvGeometry g, int batch, float padValue, Tensor cols) =>
        k.Im2Col(batch * g.OutH * g.OutW * g.Patch, V(x), V(cols), g, padValue);

    public void Col2Im(Tensor cols, ConvGeometry g, int batch, Tensor dx) =>
        k.Col2Im(batch * g.InH * g.InW * g.InC, V(cols), V(dx), g);

    public void MaxPool(Tensor x, PoolGeometry g, int batch, Tensor y) => k.MaxPool(batch * g.OutH * g.OutW * g.C, V(x), V(y), g);

    public void MaxPoolBackward(Tensor x, Tensor y, Tensor dy, PoolGeometry g, int batch, Tensor dx) =>
        k.MaxPoolBackward(batch * g.InH * g.InW * g.C, V(x), V(y), V(dy), V(dx), g);

    public void Dropout(Tensor x, Tensor y, int count, float rate, ulong seed)
    {
        if (count > 0) k.Dropout(count, V(x), V(y), rate, 1f / (1f - rate), seed);
    }

    public void LossForwardBackward(LossKind kind, Tensor scores, Tensor labels, int rows, int classes, Tensor loss, Tensor dScores) =>
        k.Loss(rows, V(scores), V(labels), V(loss), V(dScores), rows, classes, (int)kind);

    public void AdamStep(Tensor parameter, Tensor gradient, Tensor m, Tensor v, int count, float stepSize, float beta1, float beta2,
        float epsilon, float clipLow, float clipHigh)
    {
        if (count > 0) k.Adam(count, V(parameter), V(gradient), V(m), V(v), new AdamArgs(stepSize, beta1, beta2, epsilon, clipLow, clipHigh));
    }

    // ---- ILowPrecisionBackend ----

    public void QuantizeGradient(Tensor gradient, int count, int bits, ulong seed, Tensor levels, Tensor scale, Tensor quantized, int groups = 1)
    {
        if (groups < 1 || count % groups != 0) throw new ArgumentException($"{count} gradients do not split into {groups} equal groups");
        if (count == 0) return;
        var maxView = Scratch(ref maxBits, groups);
        if (groups == 1)
        {
            maxView.MemSetToZero();
            const int Threads = 1 << 16;          // a grid-stride loop: one atomic per thread, not per element
            int threads = Math.Min(count, Threads);
            k.MaxAbs(threads, V(gradient), maxView, count, threads);
        }
        else k.GroupMaxAbs(groups, V(gradient), maxView, count / groups);
        k.QuantizeGradient(count, V(gradient), maxView, V(levels), V(scale), V(quantized), (1 << bits) - 1, seed, count / groups);
    }

    public void LevelProduct(Tensor a, int rowsA, int bitsA, bool transposedA, Tensor b, int rowsB, int bitsB, bool transposedB, int kk, Tensor c)
    {
        if (rowsA == 0 || rowsB == 0) return;
        int words = (kk + 63) >> 6;
        var pa = Scratch(ref levelPlanesA, (long)rowsA * bitsA * words);
        var pb = Scratch(ref levelPlanesB, (long)rowsB * bitsB * words);
        k.PackLevelPlanes(rowsA * bitsA * words, V(a), pa, rowsA, kk, bitsA, words, transposedA ? 1 : 0);
        k.PackLevelPlanes(rowsB * bitsB * words, V(b), pb, rowsB, kk, bitsB, words, transposedB ? 1 : 0);
        k.LevelProduct(new Index2D(rowsB, rowsA), pa, pb, V(c), rowsB, kk, words, bitsA, bitsB);
    }

    public void ScaleRows(Tensor t, int rows, int cols, Tensor scales)
    {
        if (rows * cols > 0) k.ScaleRows(rows * cols, V(t), V(scales), cols);
    }

    public void SampleWeightGradient(Tensor levels, Tensor scales, Tensor x, Tensor gradient, int batch, int positions, int units, int k)
    {
        if (units * k > 0) this.k.SampleWeightGradient(units * k, V(levels), V(scales), V(x), V(gradient), batch, positions, units, k);
    }

    public void ShiftBatchNormTrain(Tensor x, int rows, int channels, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor invStd,
        Tensor gammaPow2, Tensor runningMean, Tensor runningVar, float momentum, float epsilon, bool sharedScale)
    {
        var a = Args(rows, channels, sharedScale, momentum, epsilon);
        var variance = Scratch(ref doubles1, channels);
        k.ShiftStatistics(channels, V(x), V(mean), variance, a);
        k.ShiftFinish(sharedScale ? 1 : channels, variance, V(mean), V(gamma), V(invStd), V(gammaPow2), V(runningMean), V(runningVar), a);
        k.ShiftNormalize(rows * channels, V(x), V(mean), V(invStd), V(gammaPow2), V(beta), V(y), a);
    }

    public void AdaMaxShiftStep(Tensor parameter, Tensor gradient, Tensor m, Tensor u, int count, float step, float oneMinusBeta1,
        float oneMinusBeta2, float clipLow, float clipHigh)
    {
        if (count > 0) k.AdaMaxShift(count, V(parameter), V(gradient), V(m), V(u), new AdamArgs(step, oneMinusBeta1, oneMinusBeta2, 0f, clipLow, clipHigh));
    }

    /// <summary>A scratch buffer of at least <paramref name="length"/> elements (grown, never shrunk), as a view of that length.</summary>
    private ArrayView<T> Scratch<T>(ref MemoryBuffer1D<T, Stride1D.Dense>? buffer, long length) where T : unmanaged
    {
        length = Math.Max(1, length);
        if (buffer is null || buffer.Length < length)
        {
            buffer?.Dispose();
            buffer = acc.Allocate1D<T>(length);
        }
        return buffer.View.SubView(0, length);
    }

    /// <summary>Waits for the queued kernels (for timing).</summary>
    public void Synchronize() => acc.Synchronize();

    public void Dispose()
    {
        acc.Synchronize();
        doubles1?.Dispose();
        doubles2?.Dispose();
        floats1?.Dispose();
        floats2?.Dispose();
        packA?.Dispose();
        levelPlanesA?.Dispose();
        levelPlanesB?.Dispose();
        packB?.Dispose();
        maxBits?.Dispose();
        if (ownsDevice) device.Dispose();
    }
}
