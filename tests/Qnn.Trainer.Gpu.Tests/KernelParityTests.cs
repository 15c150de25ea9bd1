using CsCheck;
using Qnn.Trainer.Backends;
using Qnn.Trainer.LowPrecision;
using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.Gpu.Tests;

/// <summary>
/// Every kernel of the ILGPU backend against the CPU backend's, on random shapes and values, bit for bit: the
/// kernels repeat the CPU's float operations in the CPU's order (GEMM blocks of 256, double reductions in row
/// order, the shared element rules), so on ILGPU's CPU accelerator there is nothing to forgive.
/// </summary>
[Collection(CpuAcceleratorCollection.Name)]
public sealed class KernelParityTests(CpuAccelerator accelerator)
{
    private BackendPair Pair() => new(new CpuBackend(), accelerator.Backend());

    private static float[] Values(Random r, int n, float scale = 2f)
    {
        var v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float)((r.NextDouble() * 2 - 1) * scale);
        return v;
    }

    private static void Sample(Action<Random> body, int iter = 12) =>
        Gen.Int.Sample(seed => body(new Random(seed)), iter: iter, threads: 1);

    [Fact]
    public void GemmMatchesInEveryTransposeAndAcrossTheCpuBlocksOf256()
    {
        Sample(r =>
        {
            int m = r.Next(1, 24), n = r.Next(1, 24), k = r.Next(0, 3) == 0 ? r.Next(257, 530) : r.Next(1, 70);
            bool ta = r.Next(2) == 0, tb = r.Next(2) == 0;
            float alpha = r.Next(3) switch { 0 => 1f, 1 => 0.5f, _ => (float)r.NextDouble() * 3 - 1.5f };
            float beta = r.Next(3) switch { 0 => 0f, 1 => 1f, _ => (float)r.NextDouble() - 0.5f };
            using var p = Pair();
            var a = p.Of(Values(r, m * k));
            var b = p.Of(Values(r, k * n));
            var c = p.Of(Values(r, m * n));
            p.Cpu.Gemm(a.C, ta, b.C, tb, c.C, m, n, k, alpha, beta);
            p.Gpu.Gemm(a.G, ta, b.G, tb, c.G, m, n, k, alpha, beta);
            p.AssertSame(c, $"gemm {m}x{n}x{k} ta={ta} tb={tb} alpha={alpha} beta={beta}");
        });
    }

    [Fact]
    public void SignGemmMatches()
    {
        Sample(r =>
        {
            int m = r.Next(1, 20), n = r.Next(1, 20), k = r.Next(1, 200);
            using var p = Pair();
            float[] Signs(int count) => Enumerable.Range(0, count).Select(_ => r.Next(5) switch { 0 => 0f, < 3 => 1f, _ => -1f }).ToArray();
            var a = p.Of(Signs(m * k));
            var b = p.Of(Signs(n * k));
            var c = p.Zeros(m * n);
            p.Cpu.SignGemm(a.C, b.C, c.C, m, n, k);
            p.Gpu.SignGemm(a.G, b.G, c.G, m, n, k);
            p.AssertSame(c, $"sign gemm {m}x{n}x{k}");
        });
    }

    [Fact]
    public void QuantizersMatchIncludingTheBoundaries()
    {
        Sample(r =>
        {
            int bits = new[] { 1, 2, 3, 4, 8 }[r.Next(5)];
            var x = Values(r, 300, 1.3f);
            for (int i = 0; i < 40; i++) x[r.Next(x.Length)] = Levels.Boundary(r.Next(1, Levels.Max(bits) + 1), bits);
            x[0] = 0f;
            x[1] = -0f;
            x[2] = 1f;
            x[3] = -1f;
            using var p = Pair();
            var xs = p.Of(x);
            var y = p.Zeros(x.Length);
            p.Cpu.Quantize(xs.C, y.C, x.Length, bits);
            p.Gpu.Quantize(xs.G, y.G, x.Length, bits);
            p.AssertSame(y, $"quantize {bits} bits");
            var dy = p.Of(Values(r, x.Length));
            var cancel = r.Next(2) == 0 ? StraightThrough.HardTanh : StraightThrough.Identity;
            p.Cpu.QuantizeBackward(xs.C, dy.C, y.C, x.Length, 3f, cancel);
            p.Gpu.QuantizeBackward(xs.G, dy.G, y.G, x.Length, 3f, cancel);
            p.AssertSame(y, "quantize backward");
        });
    }

    [Fact]
    public void ActivationQuantizersMatch_LinearAtItsBoundaries_StochasticDrawForDraw()
    {
        Sample(r =>
        {
            var quantizer = (ActivationQuantizer)r.Next(3);
            int bits = quantizer == ActivationQuantizer.Stochastic ? 1 : new[] { 1, 2, 3, 4 }[r.Next(4)];
            var x = Values(r, 500, 1.3f);
            for (int i = 0; i < 40; i++) x[r.Next(x.Length)] = LinearLevels.Boundary(r.Next(1, Levels.Max(bits) + 1), bits);
            WithEdges(x);
            ulong seed = (ulong)r.NextInt64();
            using var p = Pair();
            var xs = p.Of(x);
            var y = p.Zeros(x.Length);
            p.Cpu.QuantizeActivation(xs.C, y.C, x.Length, bits, quantizer, seed);
            p.Gpu.QuantizeActivation(xs.G, y.G, x.Length, bits, quantizer, seed);
            p.AssertSame(y, $"{quantizer} {bits} bits");
        });
    }

    /// <summary>Zero, the grid's ends and NaN in the first four values: the quantizers' edge cases.</summary>
    private static void WithEdges(float[] x)
    {
        x[0] = 0f;
        x[1] = -1f;
        x[2] = 1f;
        x[3] = float.NaN;
    }

    [Fact]
    public void WeightQuantizersMatch_LogAtItsBoundaries_StochasticDrawForDraw()
    {
        Sample(r =>
        {
            var quantizer = new[] { WeightQuantizer.Odd, WeightQuantizer.Log, WeightQuantizer.Stochastic }[r.Next(3)];
            int bits = quantizer == WeightQuantizer.Stochastic ? 1 : quantizer == WeightQuantizer.Log ? r.Next(2, 5) : r.Next(1, 5);
            var x = Values(r, 500, 1.3f);
            if (quantizer == WeightQuantizer.Log)
                for (int i = 0; i < 40; i++)
                {
                    float b = LogLevels.Boundary(r.Next(1, LogLevels.Exponents(bits)), bits);
                    x[r.Next(x.Length)] = r.Next(2) == 0 ? b : -MathF.BitDecrement(b);
                }
            WithEdges(x);
            ulong seed = (ulong)r.NextInt64();
            using var p = Pair();
            var xs = p.Of(x);
            var y = p.Zeros(x.Length);
            p.Cpu.QuantizeWeights(xs.C, y.C, x.Length, bits, quantizer, seed);
            p.Gpu.QuantizeWeights(xs.G, y.G, x.Length, bits, quantizer, seed);
            p.AssertSame(y, $"{quantizer} {bits} bits");
        });
    }

    [Fact]
    public void BatchNormForwardBackwardAndInferenceMatch()
    {
        Sample(r =>
        {
            int rows = r.Next(1, 40), channels = r.Next(1, 20);
            bool shared = r.Next(2) == 0;
            int scales = shared ? 1 : channels, n = rows * channels;
            using var p = Pair();
            var x = p.Of(Values(r, n, 5f));
            var gamma = p.Of(Values(r, scales));
            var beta = p.Of(Values(r, channels));
            var rm = p.Of(Values(r, channels));
            var rv = p.Of(Values(r, scales).Select(Math.Abs).ToArray());
            var y = p.Zeros(n);
            var mean = p.Zeros(channels);
            var inv = p.Zeros(scales);
            p.Cpu.BatchNormTrain(x.C, rows, channels, gamma.C, beta.C, y.C, mean.C, inv.C, rm.C, rv.C, 0.1f, 1e-4f, shared);
            p.Gpu.BatchNormTrain(x.G, rows, channels, gamma.G, beta.G, y.G, mean.G, inv.G, rm.G, rv.G, 0.1f, 1e-4f, shared);
            foreach (var (t, name) in new[] { (y, "y"), (mean, "mean"), (inv, "invStd"), (rm, "running mean"), (rv, "running var") })
                p.AssertSame(t, $"batch norm {rows}x{channels} shared={shared}: {name}");
            var dy = p.Of(Values(r, n));
            var dx = p.Zeros(n);
            var dg = p.Zeros(scales);
            var db = p.Zeros(channels);
            p.Cpu.BatchNormBackward(x.C, dy.C, rows, channels, gamma.C, mean.C, inv.C, dx.C, dg.C, db.C, shared);
            p.Gpu.BatchNormBackward(x.G, dy.G, rows, channels, gamma.G, mean.G, inv.G, dx.G, dg.G, db.G, shared);
            foreach (var (t, name) in new[] { (dx, "dx"), (dg, "dGamma"), (db, "dBeta") })
                p.AssertSame(t, $"batch norm backward: {name}");
            var a = p.Of(Values(r, channels));
            p.Cpu.ScaleShift(x.C, rows, channels, a.C, beta.C, y.C);
            p.Gpu.ScaleShift(x.G, rows, channels, a.G, beta.G, y.G);
            p.AssertSame(y, "scale shift");
        });
    }

    [Fact]
    public void ConvolutionAndPoolingMatch()
    {
        Sample(r =>
        {
            int batch = r.Next(1, 3), h = r.Next(3, 9), w = r.Next(3, 9), c = r.Next(1, 4), kernel = r.Next(1, 4), stride = r.Next(1, 3), pad = r.Next(0, 2);
            int oh = (h + 2 * pad - kernel) / stride + 1, ow = (w + 2 * pad - kernel) / stride + 1;
            var g = new ConvGeometry(h, w, c, kernel, kernel, stride, stride, pad, pad, oh, ow);
            using var p = Pair();
            // Levels with ties, so the pooling's "first maximum" rule matters.
            var x = p.Of(Enumerable.Range(0, batch * h * w * c).Select(_ => (float)(2 * r.Next(4) - 3)).ToArray());
            var cols = p.Zeros(batch * oh * ow * g.Patch);
            p.Cpu.Im2Col(x.C, g, batch, -3f, cols.C);
            p.Gpu.Im2Col(x.G, g, batch, -3f, cols.G);
            p.AssertSame(cols, $"im2col {g}");
            var dcols = p.Of(Values(r, cols.C.Length));
            var dx = p.Zeros(batch * h * w * c);
            p.Cpu.Col2Im(dcols.C, g, batch, dx.C);
            p.Gpu.Col2Im(dcols.G, g, batch, dx.G);
            p.AssertSame(dx, $"col2im {g}");
            int pool = r.Next(1, Math.Min(h, w) + 1), ps = r.Next(1, pool + 1);
            var pg = new PoolGeometry(h, w, c, pool, pool, ps, ps, (h - pool) / ps + 1, (w - pool) / ps + 1);
            var y = p.Zeros(batch * pg.OutH * pg.OutW * c);
            p.Cpu.MaxPool(x.C, pg, batch, y.C);
            p.Gpu.MaxPool(x.G, pg, batch, y.G);
            p.AssertSame(y, $"max pool {pg}");
            var dy = p.Of(Values(r, y.C.Length));
            p.Cpu.MaxPoolBackward(x.C, y.C, dy.C, pg, batch, dx.C);
            p.Gpu.MaxPoolBackward(x.G, y.G, dy.G, pg, batch, dx.G);
            p.AssertSame(dx, $"max pool backward {pg}");
        });
    }

    [Fact]
    public void DropoutLossesAndAdamMatch()
    {
        Sample(r =>
        {
            int rows = r.Next(1, 30), classes = r.Next(2, 12), n = rows * classes;
            using var p = Pair();
            var x = p.Of(Values(r, n));
            var y = p.Zeros(n);
            float rate = (float)r.NextDouble() * 0.6f;
            ulong seed = (ulong)r.NextInt64();
            p.Cpu.Dropout(x.C, y.C, n, rate, seed);
            p.Gpu.Dropout(x.G, y.G, n, rate, seed);
            p.AssertSame(y, "dropout");
            var labels = p.Of(Enumerable.Range(0, rows).Select(_ => (float)r.Next(classes)).ToArray());
            var loss = p.Zeros(rows);
            foreach (var kind in new[] { LossKind.SquaredHinge, LossKind.SoftmaxCrossEntropy })
            {
                p.Cpu.LossForwardBackward(kind, x.C, labels.C, rows, classes, loss.C, y.C);
                p.Gpu.LossForwardBackward(kind, x.G, labels.G, rows, classes, loss.G, y.G);
                p.AssertSame(loss, $"{kind} loss");
                p.AssertSame(y, $"{kind} gradient");
            }
            var param = p.Of(Values(r, n, 1f));
            var m = p.Of(Values(r, n, 0.1f));
            var v = p.Of(Values(r, n, 0.1f).Select(Math.Abs).ToArray());
            p.Cpu.AdamStep(param.C, x.C, m.C, v.C, n, 0.01f, 0.9f, 0.999f, 1e-8f, -1f, 1f);
            p.Gpu.AdamStep(param.G, x.G, m.G, v.G, n, 0.01f, 0.9f, 0.999f, 1e-8f, -1f, 1f);
            foreach (var (t, name) in new[] { (param, "parameter"), (m, "m"), (v, "v") }) p.AssertSame(t, $"adam {name}");
        });
    }

    [Fact]
    public void LowPrecisionKernelsMatch()
    {
        Sample(r =>
        {
            int rows = r.Next(1, 40), channels = r.Next(1, 20), n = rows * channels;
            bool shared = r.Next(2) == 0;
            int scales = shared ? 1 : channels, bits = r.Next(2, 9);
            using var p = Pair();
            var cpuK = LowPrecisionKernels.Of(p.Cpu);
            var gpuK = LowPrecisionKernels.Of(p.Gpu);
            var g = p.Of(Values(r, n, (float)r.NextDouble() * 3));
            var levels = p.Zeros(n);
            var scale = p.Zeros(1);
            var q = p.Zeros(n);
            ulong seed = (ulong)r.NextInt64();
            cpuK.QuantizeGradient(g.C, n, bits, seed, levels.C, scale.C, q.C);
            gpuK.QuantizeGradient(g.G, n, bits, seed, levels.G, scale.G, q.G);
            foreach (var (t, name) in new[] { (levels, "levels"), (scale, "scale"), (q, "quantized") }) p.AssertSame(t, $"gradient {name}");

            // Per-sample scales (DoReFa-Net eq. 12): one max-norm per row, the same draws.
            var rowScale = p.Zeros(rows);
            cpuK.QuantizeGradient(g.C, n, bits, seed, levels.C, rowScale.C, q.C, rows);
            gpuK.QuantizeGradient(g.G, n, bits, seed, levels.G, rowScale.G, q.G, rows);
            foreach (var (t, name) in new[] { (levels, "levels"), (rowScale, "scales"), (q, "quantized") }) p.AssertSame(t, $"per-sample gradient {rows}x{channels} {name}");
            var scaled = p.Of(Values(r, n, 5f));
            cpuK.ScaleRows(scaled.C, rows, channels, rowScale.C);
            gpuK.ScaleRows(scaled.G, rows, channels, rowScale.G);
            p.AssertSame(scaled, "rows scaled");
            // rows samples of 1 (dense) or several (conv) positions each
            int units = r.Next(1, 12), inputs = r.Next(1, 70), positions = r.Next(2) == 0 ? 1 : r.Next(2, 10);
            var xs = p.Of(Enumerable.Range(0, rows * positions * inputs).Select(_ => (float)(2 * r.Next(4) - 3)).ToArray());
            var vs = p.Of(Enumerable.Range(0, rows * positions * units).Select(_ => (float)(2 * r.Next(1 << bits) - ((1 << bits) - 1))).ToArray());
            var dw = p.Zeros(units * inputs);
            cpuK.SampleWeightGradient(vs.C, rowScale.C, xs.C, dw.C, rows, positions, units, inputs);
            gpuK.SampleWeightGradient(vs.G, rowScale.G, xs.G, dw.G, rows, positions, units, inputs);
            p.AssertSame(dw, $"per-sample weight gradient {rows}x{positions}x{units}x{inputs}");

            // The bitwise product over bit-planes (the ILGPU form of BitwiseGemm), every transpose.
            int m2 = r.Next(1, 9), n2 = r.Next(1, 9), k2 = r.Next(1, 150), ba = r.Next(1, 7), bb = r.Next(1, 4);
            bool ta = r.Next(2) == 0, tb = r.Next(2) == 0;
            var la = p.Of(Enumerable.Range(0, m2 * k2).Select(_ => (float)(2 * r.Next(1 << ba) - ((1 << ba) - 1))).ToArray());
            var lb = p.Of(Enumerable.Range(0, n2 * k2).Select(_ => (float)(2 * r.Next(1 << bb) - ((1 << bb) - 1))).ToArray());
            var lc = p.Zeros(m2 * n2);
            cpuK.LevelProduct(la.C, m2, ba, ta, lb.C, n2, bb, tb, k2, lc.C);
            gpuK.LevelProduct(la.G, m2, ba, ta, lb.G, n2, bb, tb, k2, lc.G);
            p.AssertSame(lc, $"level product {m2}x{n2}x{k2} planes {ba},{bb} ta={ta} tb={tb}");

            var x = p.Of(Values(r, n, 4f));
            var gamma = p.Of(Values(r, scales));
            var beta = p.Of(Values(r, channels));
            var rm = p.Of(Values(r, channels));
            var rv = p.Of(Values(r, scales).Select(Math.Abs).ToArray());
            var y = p.Zeros(n);
            var mean = p.Zeros(channels);
            var inv = p.Zeros(scales);
            var g2 = p.Zeros(scales);
            cpuK.ShiftBatchNormTrain(x.C, rows, channels, gamma.C, beta.C, y.C, mean.C, inv.C, g2.C, rm.C, rv.C, 0.1f, 1e-4f, shared);
            gpuK.ShiftBatchNormTrain(x.G, rows, channels, gamma.G, beta.G, y.G, mean.G, inv.G, g2.G, rm.G, rv.G, 0.1f, 1e-4f, shared);
            foreach (var (t, name) in new[] { (y, "y"), (mean, "mean"), (inv, "shift"), (g2, "AP2(gamma)"), (rm, "running mean"), (rv, "running var") })
                p.AssertSame(t, $"shift batch norm {rows}x{channels} shared={shared}: {name}");

            var param = p.Of(Values(r, n, 1f));
            var m = p.Zeros(n);
            var u = p.Zeros(n);
            for (int t = 1; t <= 3; t++)
            {
                float step = AdaMaxShift.StepSize(0.003, t);
                cpuK.AdaMaxShiftStep(param.C, g.C, m.C, u.C, n, step, AdaMaxShift.OneMinusBeta1, AdaMaxShift.OneMinusBeta2, -1f, 1f);
                gpuK.AdaMaxShiftStep(param.G, g.G, m.G, u.G, n, step, AdaMaxShift.OneMinusBeta1, AdaMaxShift.OneMinusBeta2, -1f, 1f);
            }
            foreach (var (t, name) in new[] { (param, "parameter"), (m, "m"), (u, "u") }) p.AssertSame(t, $"adamax-shift {name}");
        });
    }
}
