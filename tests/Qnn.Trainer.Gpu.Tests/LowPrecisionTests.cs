using CsCheck;
using Qnn.Trainer.Backends;
using Qnn.Trainer.LowPrecision;

namespace Qnn.Trainer.Gpu.Tests;

/// <summary>The low-precision rules against their papers' definitions, written out independently here.</summary>
public sealed class LowPrecisionTests
{
    [Fact]
    public void Ap2IsSignTimesTwoToTheRoundedLog()
    {
        Gen.Float.Sample(x =>
        {
            float y = PowerOfTwo.Approximate(x);
            if (float.IsNaN(x)) Assert.True(float.IsNaN(y));
            else if (x == 0f || float.IsInfinity(x)) Assert.Equal(x, y);
            else if (Math.Abs(x) >= 1e-37)
            {
                // |x| = m · 2^e with m in [1, 2): round(log2|x|) = e + (m > √2 ? 1 : 0), m > √2 ⇔ m² > 2 exactly in double.
                double a = Math.Abs((double)x);
                int e = (int)Math.Floor(Math.Log2(a));
                if (a < Math.Pow(2, e)) e--;
                if (a >= Math.Pow(2, e + 1)) e++;
                double m = a / Math.Pow(2, e);
                double expected = Math.Sign(x) * Math.Pow(2, m * m > 2 ? e + 1 : e);
                Assert.Equal(expected, (double)y);
            }
        }, iter: 20000);
        Assert.Equal(1f, PowerOfTwo.Approximate(1.4142135f));     // float(√2) is below √2
        Assert.Equal(2f, PowerOfTwo.Approximate(1.4142137f));
        Assert.Equal(-0.25f, PowerOfTwo.Approximate(-0.3f));
    }

    [Fact]
    public void GradientLevelsAreOddWithinOneStepAndTheMaximumIsExact()
    {
        Gen.Int.Sample(seed =>
        {
            var r = new Random(seed);
            int bits = r.Next(2, 9), max = (1 << bits) - 1, n = r.Next(1, 500);
            var g = Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1) * 0.01f).ToArray();
            var (levels, s, q) = Quantize(g, bits, (ulong)seed);
            float maxAbs = g.Max(MathF.Abs);
            Assert.Equal(maxAbs / max, s);
            int top = Array.IndexOf(g, g.First(v => MathF.Abs(v) == maxAbs));
            Assert.Equal(MathF.Sign(g[top]) * max, levels[top]);
            for (int i = 0; i < n; i++)
            {
                Assert.True(levels[i] is >= -1e9f && MathF.Abs(levels[i]) <= max && ((int)levels[i] & 1) == 1, $"level {levels[i]}");
                Assert.Equal(s * levels[i], q[i]);
                Assert.True(MathF.Abs(q[i] - g[i]) <= 2 * s * 1.0001f, $"{g[i]} quantized to {q[i]} with step {2 * s}");
            }
        }, iter: 50);
    }

    [Fact]
    public void StochasticRoundingIsUnbiased()
    {
        // E[GQ(r)] = r: the mean over 4000 seeds of each element is r within 5 standard errors (error ≤ 2s per draw).
        var g = new[] { 1f, -0.37f, 0.0123f, -0.8f, 0.5f, 0f, 0.001f };
        const int bits = 3, draws = 4000;
        var sums = new double[g.Length];
        float s = 0f;
        for (int d = 0; d < draws; d++)
        {
            var (_, scale, q) = Quantize(g, bits, (ulong)d * 7919 + 1);
            s = scale;
            for (int i = 0; i < g.Length; i++) sums[i] += q[i];
        }
        for (int i = 0; i < g.Length; i++)
            Assert.True(Math.Abs(sums[i] / draws - g[i]) < 5 * s / Math.Sqrt(draws), $"mean of GQ({g[i]}) is {sums[i] / draws}");
    }

    [Fact]
    public void PerSampleScaleIsEachRowsMaxNorm_WithTheTensorRulesDraws()
    {
        // DoReFa-Net eq. 12 (M = max |r| per sample): each row quantized alone, with the draw of its place in the tensor.
        var r = new Random(4);
        const int rows = 5, cols = 13, bits = 4, max = (1 << bits) - 1;
        var g = Enumerable.Range(0, rows * cols).Select(i => (float)(r.NextDouble() - 0.5) * (i / cols + 1) * (i / cols == 2 ? 0 : 1)).ToArray();
        const ulong seed = 99;
        var b = new CpuBackend();
        var (gt, lt, st, qt) = (b.Allocate(g.Length), b.Allocate(g.Length), b.Allocate(rows), b.Allocate(g.Length));
        b.Upload(g, gt);
        CpuLowPrecision.Instance.QuantizeGradient(gt, g.Length, bits, seed, lt, st, qt, rows);
        float[] levels = BackendPair.Read(b, lt), scales = BackendPair.Read(b, st), q = BackendPair.Read(b, qt);
        for (int n = 0; n < rows; n++)
        {
            float m = 0f;
            for (int c = 0; c < cols; c++) m = MathF.Max(m, MathF.Abs(g[n * cols + c]));
            Assert.Equal(m / max, scales[n]);
            for (int c = 0; c < cols; c++)
            {
                int i = n * cols + c;
                Assert.Equal(GradientQuantization.Level(g[i], m, max, seed, i), levels[i]);
                Assert.Equal(scales[n] * levels[i], q[i]);
            }
        }
        Assert.Equal(0f, scales[2]);   // an all-zero sample: scale 0, gradient 0
    }

    private static (float[] Levels, float Scale, float[] Quantized) Quantize(float[] g, int bits, ulong seed)
    {
        var b = new CpuBackend();
        var (gt, lt, st, qt) = (b.Allocate(g.Length), b.Allocate(g.Length), b.Allocate(1), b.Allocate(g.Length));
        b.Upload(g, gt);
        CpuLowPrecision.Instance.QuantizeGradient(gt, g.Length, bits, seed, lt, st, qt);
        return (BackendPair.Read(b, lt), BackendPair.Read(b, st)[0], BackendPair.Read(b, qt));
    }

    [Fact]
    public void BitwiseGemmIsTheIntegerProductOfTheLevels()
    {
        Gen.Int.Sample(seed =>
        {
            var r = new Random(seed);
            int m = r.Next(1, 9), n = r.Next(1, 9), k = r.Next(1, 200), pa = r.Next(1, 9), pb = r.Next(1, 5);
            bool ta = r.Next(2) == 0, tb = r.Next(2) == 0;
            float[] Levels(int count, int planes) => Enumerable.Range(0, count).Select(_ => (float)(2 * r.Next(1 << planes) - ((1 << planes) - 1))).ToArray();
            float[] a = Levels(m * k, pa), b = Levels(n * k, pb);
            var a2 = new LevelPlanes(m, k, pa);
            var b2 = new LevelPlanes(n, k, pb);
            a2.Pack(ta ? Transpose(a, m, k) : a, ta);
            b2.Pack(tb ? Transpose(b, n, k) : b, tb);
            var c = new float[m * n];
            BitwiseGemm.Multiply(a2, b2, c);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    long dot = 0;
                    for (int p = 0; p < k; p++) dot += (long)a[i * k + p] * (long)b[j * k + p];
                    Assert.Equal(dot, (long)c[i * n + j]);
                }
        }, iter: 60);
    }

    /// <summary>rows × cols row-major → cols × rows row-major.</summary>
    private static float[] Transpose(float[] x, int rows, int cols)
    {
        var t = new float[x.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c];
        return t;
    }

    [Fact]
    public void BitPlanesRejectWhatIsNotALevel()
    {
        var p = new LevelPlanes(1, 3, 2);
        Assert.Throws<ArgumentException>(() => p.Pack([1f, 2f, 3f], false));
        Assert.Throws<ArgumentException>(() => p.Pack([1f, 5f, 3f], false));
        Assert.Throws<ArgumentException>(() => p.Pack([1f, 0.5f, 3f], false));
    }

    [Fact]
    public void ShiftBatchNormIsAlgorithm3()
    {
        Gen.Int.Sample(seed =>
        {
            var r = new Random(seed);
            int rows = r.Next(2, 30), channels = r.Next(1, 6);
            var b = new CpuBackend();
            var x = Enumerable.Range(0, rows * channels).Select(_ => (float)(r.NextDouble() * 6 - 2)).ToArray();
            var gamma = Enumerable.Range(0, channels).Select(_ => (float)(r.NextDouble() * 3 - 1.5)).ToArray();
            var beta = Enumerable.Range(0, channels).Select(_ => (float)r.NextDouble()).ToArray();
            Tensor T(float[] v) { var t = b.Allocate(v.Length); b.Upload(v, t); return t; }
            var (y, mean, inv, g2) = (b.Allocate(x.Length), b.Allocate(channels), b.Allocate(channels), b.Allocate(channels));
            CpuLowPrecision.Instance.ShiftBatchNormTrain(T(x), rows, channels, T(gamma), T(beta), y, mean, inv, g2, b.Allocate(channels), T(new float[channels]), 0.1f, 1e-4f, false);
            var ys = BackendPair.Read(b, y);
            for (int c = 0; c < channels; c++)
            {
                // Algorithm 3 in double: μ, C = x − μ, σ² = mean(C · AP2(C)), x̂ = C · AP2(1/√(σ² + ε)), y = AP2(γ) · x̂ + β.
                double mu = 0;
                for (int i = 0; i < rows; i++) mu += x[i * channels + c];
                mu /= rows;
                double v = 0;
                for (int i = 0; i < rows; i++) { double d = x[i * channels + c] - mu; v += d * Ap2(d); }
                v /= rows;
                double s = Ap2(1 / Math.Sqrt(v + 1e-4)), g = Ap2(gamma[c]);
                for (int i = 0; i < rows; i++)
                {
                    double expected = g * ((x[i * channels + c] - mu) * s) + beta[c];
                    Assert.True(Math.Abs(ys[i * channels + c] - expected) <= 1e-5 * Math.Max(1, Math.Abs(expected)), $"y {ys[i * channels + c]} vs {expected}");
                }
                Assert.Equal(s, BackendPair.Read(b, inv)[c]);
            }
        }, iter: 40);
    }

    private static double Ap2(double x) => x == 0 ? 0 : Math.Sign(x) * Math.Pow(2, Math.Round(Math.Log2(Math.Abs(x)), MidpointRounding.AwayFromZero));

    [Fact]
    public void AdaMaxShiftIsAlgorithm4WithPowerOfTwoSteps()
    {
        Gen.Int.Sample(seed =>
        {
            var r = new Random(seed);
            int n = r.Next(1, 50);
            var b = new CpuBackend();
            var p = Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();
            var (pt, gt, mt, ut) = (b.Allocate(n), b.Allocate(n), b.Allocate(n), b.Allocate(n));
            b.Upload(p, pt);
            double[] m = new double[n], u = new double[n], pr = p.Select(v => (double)v).ToArray();
            for (int t = 1; t <= 4; t++)
            {
                var g = Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 0.2 - 0.1)).ToArray();
                b.Upload(g, gt);
                float step = AdaMaxShift.StepSize(0.01, t);
                Assert.Equal(step, PowerOfTwo.Approximate(step));
                Assert.Equal(Ap2(0.01 / (1 - Math.Pow(0.875, t))), step);
                CpuLowPrecision.Instance.AdaMaxShiftStep(pt, gt, mt, ut, n, step, 1f / 8, 1f / 1024, -1f, 1f);
                for (int i = 0; i < n; i++)
                {
                    m[i] = 0.875 * m[i] + 0.125 * g[i];
                    u[i] = Math.Max((1 - 1.0 / 1024) * u[i], Math.Abs(g[i]));
                    pr[i] = Math.Clamp(pr[i] - step * m[i] / Ap2(u[i]), -1, 1);
                }
            }
            var actual = BackendPair.Read(b, pt);
            for (int i = 0; i < n; i++) Assert.True(Math.Abs(actual[i] - pr[i]) < 1e-5, $"parameter {actual[i]} vs {pr[i]}");
        }, iter: 40);
    }
}
