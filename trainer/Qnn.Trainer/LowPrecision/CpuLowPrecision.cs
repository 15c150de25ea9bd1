using System.Numerics;
using Qnn.Trainer.Backends;

namespace Qnn.Trainer.LowPrecision;

/// <summary>
/// The CPU backend's low-precision kernels: loops over <see cref="CpuTensor.Data"/> that call the shared element
/// rules (<see cref="GradientQuantization"/>, <see cref="ShiftRules"/>). Reductions run in a fixed order (the
/// maximum is order-free; the batch-norm sums go row by row per channel, as the exact batch norm's).
/// </summary>
public sealed class CpuLowPrecision : ILowPrecisionBackend
{
    public static readonly CpuLowPrecision Instance = new();

    private static float[] D(Tensor t) => t is CpuTensor c ? c.Data : throw new ArgumentException($"{t} does not belong to the CPU backend");

    /// <summary>Runs body over [0, count) in fixed chunks; only for element-wise work.</summary>
    private static void Chunks(int count, Action<int, int> body, int chunk = 1 << 15)
    {
        int n = (count + chunk - 1) / chunk;
        if (n <= 1) body(0, count);
        else Parallel.For(0, n, i => body(i * chunk, Math.Min(count, i * chunk + chunk)));
    }

    public void QuantizeGradient(Tensor gradient, int count, int bits, ulong seed, Tensor levels, Tensor scale, Tensor quantized, int groups = 1)
    {
        if (groups < 1 || count % groups != 0) throw new ArgumentException($"{count} gradients do not split into {groups} equal groups");
        float[] g = D(gradient), v = D(levels), q = D(quantized), sc = D(scale);
        int size = count / groups, max = (1 << bits) - 1;
        var maxAbs = new float[groups];
        for (int n = 0; n < groups; n++)
        {
            float m = 0f;
            for (int i = n * size, end = i + size; i < end; i++) m = MathF.Max(m, MathF.Abs(g[i]));
            maxAbs[n] = m;
            sc[n] = GradientQuantization.Scale(m, max);
        }
        Chunks(count, (a, b) =>
        {
            for (int i = a; i < b; i++)
            {
                int n = size == 0 ? 0 : i / size;
                float level = GradientQuantization.Level(g[i], maxAbs[n], max, seed, i);
                v[i] = level;
                q[i] = sc[n] * level;
            }
        });
    }

    public void LevelProduct(Tensor a, int rowsA, int bitsA, bool transposedA, Tensor b, int rowsB, int bitsB, bool transposedB, int k, Tensor c)
    {
        var pa = new LevelPlanes(rowsA, k, bitsA);
        var pb = new LevelPlanes(rowsB, k, bitsB);
        pa.Pack(D(a), transposedA);
        pb.Pack(D(b), transposedB);
        BitwiseGemm.Multiply(pa, pb, D(c));
    }

    public void ScaleRows(Tensor t, int rows, int cols, Tensor scales)
    {
        float[] a = D(t), s = D(scales);
        Chunks(rows, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                float f = s[r];
                for (int i = r * cols, end = i + cols; i < end; i++) a[i] *= f;
            }
        }, Math.Max(1, (1 << 15) / Math.Max(1, cols)));
    }

    public void SampleWeightGradient(Tensor levels, Tensor scales, Tensor x, Tensor gradient, int batch, int positions, int units, int k)
    {
        float[] v = D(levels), s = D(scales), xs = D(x), dw = D(gradient);
        int width = Vector<float>.Count;
        Parallel.For(0, units, () => new float[k], (u, _, product) =>
        {
            var row = dw.AsSpan(u * k, k);
            row.Clear();
            for (int n = 0; n < batch; n++)
            {
                if (positions == 1)
                {
                    // A dense layer: I_n[u, f] = v·x, one exact product; row += s_n·I_n in one pass.
                    float level = v[n * units + u];
                    var xr = xs.AsSpan(n * k, k);
                    var vl = new Vector<float>(level);
                    var vs = new Vector<float>(s[n]);
                    int g = 0;
                    for (; g + width <= k; g += width) (new Vector<float>(row[g..]) + new Vector<float>(xr[g..]) * vl * vs).CopyTo(row[g..]);
                    for (; g < k; g++) row[g] += s[n] * (level * xr[g]);
                    continue;
                }
                // I_n[u, ·]: a sum of integers, exact in any order.
                Array.Clear(product);
                for (int p = 0; p < positions; p++)
                {
                    long r = (long)n * positions + p;
                    var vl = new Vector<float>(v[r * units + u]);
                    var xr = xs.AsSpan((int)(r * k), k);
                    int f = 0;
                    for (; f + width <= k; f += width) (new Vector<float>(product.AsSpan(f)) + new Vector<float>(xr[f..]) * vl).CopyTo(product.AsSpan(f));
                    for (; f < k; f++) product[f] += v[r * units + u] * xr[f];
                }
                AddScaled(row, product, s[n]);
            }
            return product;
        }, _ => { });
    }

    /// <summary>row += scale · product, element by element (one rounding per product, then the add): the one accumulation step of <see cref="SampleWeightGradient"/>.</summary>
    public static void AddScaled(Span<float> row, ReadOnlySpan<float> product, float scale)
    {
        int width = Vector<float>.Count, f = 0, k = row.Length;
        var vs = new Vector<float>(scale);
        for (; f + width <= k; f += width) (new Vector<float>(row[f..]) + new Vector<float>(product[f..]) * vs).CopyTo(row[f..]);
        for (; f < k; f++) row[f] += scale * product[f];
    }

    /// <summary>
    /// dW = Σ_n scales[n] · products[n] in sample order, from per-sample integer products already computed
    /// (batch × units × k, e.g. by <see cref="BitwiseGemm"/>): the same operations as <see cref="SampleWeightGradient"/>.
    /// </summary>
    public static void SumScaled(float[] products, float[] scales, float[] dw, int batch, int units, int k)
    {
        Parallel.For(0, units, u =>
        {
            var row = dw.AsSpan(u * k, k);
            row.Clear();
            for (int n = 0; n < batch; n++) AddScaled(row, products.AsSpan((n * units + u) * k, k), scales[n]);
        });
    }

    public void ShiftBatchNormTrain(Tensor x, int rows, int channels, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor invStd,
        Tensor gammaPow2, Tensor runningMean, Tensor runningVar, float momentum, float epsilon, bool sharedScale)
    {
        float[] xs = D(x), g = D(gamma), bt = D(beta), ys = D(y), mu = D(mean), inv = D(invStd), g2 = D(gammaPow2),
            rm = D(runningMean), rv = D(runningVar);
        var variance = new double[channels];
        Parallel.For(0, channels, c =>
        {
            double sum = 0;
            for (int r = 0; r < rows; r++) sum += xs[(long)r * channels + c];
            float m = (float)(sum / rows);
            double sq = 0;
            for (int r = 0; r < rows; r++) sq += ShiftRules.VarianceTerm(xs[(long)r * channels + c] - m);
            mu[c] = m;
            variance[c] = sq / rows;
        });
        FinishStatistics(variance, channels, inv, g, g2, rv, rm, mu, momentum, epsilon, rows, sharedScale);
        Chunks(rows, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                long o = (long)r * channels;
                for (int c = 0; c < channels; c++)
                {
                    int s = sharedScale ? 0 : c;
                    ys[o + c] = ShiftRules.Normalize(xs[o + c], mu[c], inv[s], g2[s], bt[c]);
                }
            }
        }, Math.Max(1, (1 << 15) / Math.Max(1, channels)));
    }

    /// <summary>
    /// From the per-channel approximate variances: the shifts s and AP2(γ), and the running statistics (unbiased
    /// variance, as the exact batch norm). Shared with the ILGPU backend, which runs it on the downloaded variances
    /// of its statistics kernel (a few hundred numbers per step).
    /// </summary>
    public static void FinishStatistics(double[] variance, int channels, float[] invStd, float[] gamma, float[] gammaPow2,
        float[] runningVar, float[] runningMean, float[] mean, float momentum, float epsilon, int rows, bool sharedScale)
    {
        double unbiased = rows > 1 ? (double)rows / (rows - 1) : 1.0;
        int scales = sharedScale ? 1 : channels;
        double shared = 0;
        if (sharedScale)
        {
            for (int c = 0; c < channels; c++) shared += variance[c];
            shared /= channels;
        }
        for (int s = 0; s < scales; s++)
        {
            double v = sharedScale ? shared : variance[s];
            invStd[s] = ShiftRules.InverseStd(v, epsilon);
            gammaPow2[s] = PowerOfTwo.Approximate(gamma[s]);
            runningVar[s] = ShiftRules.Running(runningVar[s], v * unbiased, momentum);
        }
        for (int c = 0; c < channels; c++) runningMean[c] = ShiftRules.Running(runningMean[c], mean[c], momentum);
    }

    public void AdaMaxShiftStep(Tensor parameter, Tensor gradient, Tensor m, Tensor u, int count, float step, float oneMinusBeta1,
        float oneMinusBeta2, float clipLow, float clipHigh)
    {
        float[] p = D(parameter), g = D(gradient), ms = D(m), us = D(u);
        Chunks(count, (a, b) =>
        {
            for (int i = a; i < b; i++)
            {
                float mi = ShiftRules.NextMoment(ms[i], g[i], oneMinusBeta1);
                float ui = ShiftRules.NextNorm(us[i], g[i], oneMinusBeta2);
                ms[i] = mi;
                us[i] = ui;
                p[i] = ShiftRules.NextParameter(p[i], mi, ui, step, clipLow, clipHigh);
            }
        });
    }
}
