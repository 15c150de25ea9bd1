using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;

namespace Qnn.Trainer.Tests;

/// <summary>Each layer's backward against central finite differences of L = Σ r · y on its real-valued parts.</summary>
public class GradientTests
{
    private readonly CpuBackend backend = new();

    private float[] Host(Tensor t, int n)
    {
        var a = new float[n];
        backend.Download(t, a);
        return a;
    }

    private Tensor Device(float[] a)
    {
        var t = backend.Allocate(a.Length);
        backend.Upload(a, t);
        return t;
    }

    /// <summary>Σ r·f(v) for the loss weights r.</summary>
    private static double Dot(float[] r, float[] y)
    {
        double s = 0;
        for (int i = 0; i < r.Length; i++) s += (double)r[i] * y[i];
        return s;
    }

    /// <summary>
    /// Compares analytic with numerical derivatives of L(v) = Σ r · f(v) for a few coordinates of v.
    /// <paramref name="f"/> maps v to the output; <paramref name="analytic"/> is the backward's gradient of v.
    /// </summary>
    private static void Check(string what, float[] v, Func<float[], float[]> f, float[] r, float[] analytic, float h = 1e-2f, double tol = 2e-2)
    {
        var rng = new Random(what.Length);
        for (int trial = 0; trial < Math.Min(v.Length, 12); trial++)
        {
            int i = trial < 3 ? trial : rng.Next(v.Length);
            var p = (float[])v.Clone();
            var m = (float[])v.Clone();
            p[i] += h;
            m[i] -= h;
            double numeric = (Dot(r, f(p)) - Dot(r, f(m))) / (2 * h);
            double scale = Math.Max(1, Math.Abs(numeric));
            Assert.True(Math.Abs(numeric - analytic[i]) <= tol * scale, $"{what}[{i}]: backward {analytic[i]}, finite difference {numeric}");
        }
    }

    private static float[] Rand(Random rng, int n, double scale = 1) => Enumerable.Range(0, n).Select(_ => (float)((rng.NextDouble() * 2 - 1) * scale)).ToArray();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Batch_norm(bool shared)
    {
        var rng = new Random(1);
        int batch = 7, c = 5;
        var bn = new BatchNorm(shared);
        bn.Build(backend, new LayerInput(new Shape(2, 1, c), 0, false), batch, rng);
        int n = batch * 2 * c;
        var x = Rand(rng, n, 3);
        var r = Rand(rng, n);
        var gamma = Rand(rng, shared ? 1 : c).Select(g => g + 1.5f).ToArray();
        var beta = Rand(rng, c);
        backend.Upload(gamma, bn.Gamma.Value);
        backend.Upload(beta, bn.Beta.Value);
        float[] Run(float[] xs) => Host(bn.Forward(Device(xs), batch, true, 0), n);
        Run(x);
        var dx = Host(bn.Backward(Device(r), batch)!, n);
        var dGamma = Host(bn.Gamma.Gradient, gamma.Length);
        var dBeta = Host(bn.Beta.Gradient, c);
        Check("dx", x, Run, r, dx);
        Check("dgamma", gamma, g => { backend.Upload(g, bn.Gamma.Value); var y = Run(x); backend.Upload(gamma, bn.Gamma.Value); return y; }, r, dGamma);
        Check("dbeta", beta, b => { backend.Upload(b, bn.Beta.Value); var y = Run(x); backend.Upload(beta, bn.Beta.Value); return y; }, r, dBeta);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Binary_dense(int weightBits)
    {
        var rng = new Random(2);
        int batch = 3, k = 37, units = 11;
        var dense = new BinaryDense(units, weightBits);
        dense.Build(backend, new LayerInput(new Shape(1, 1, k), 0, false), batch, rng);
        var x = Rand(rng, batch * k, 2);
        var r = Rand(rng, batch * units);
        float[] Run(float[] xs) => Host(dense.Forward(Device(xs), batch, true, 0), batch * units);
        Run(x);
        var dx = Host(dense.Backward(Device(r), batch)!, batch * k);
        Check("dx", x, Run, r, dx);
        // The weight gradient of the quantized weights (what the straight-through estimator passes on).
        var wq = Host(dense.Weights.Quantized, units * k);
        var dwq = Host(dense.Weights.QuantizedGradient, units * k);
        float[] WithWeights(float[] w)
        {
            var y = new float[batch * units];
            CpuGemm.Reference(x, false, w, true, y, batch, units, k);
            return y;
        }
        Check("dWq", wq, WithWeights, r, dwq);
    }

    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(3, 1, 1)]
    [InlineData(3, 2, 1)]
    [InlineData(2, 2, 0)]
    public void Binary_conv2d(int kernel, int stride, int pad)
    {
        var rng = new Random(3);
        int batch = 2, h = 6, w = 5, c = 3, f = 4;
        var conv = new BinaryConv2D(f, kernel, stride, pad);
        conv.Build(backend, new LayerInput(new Shape(h, w, c), 2, false), batch, rng);
        var o = conv.OutputShape;
        int nIn = batch * h * w * c, nOut = batch * o.Size;
        var x = Rand(rng, nIn, 2);
        var r = Rand(rng, nOut);
        float[] Run(float[] xs) => Host(conv.Forward(Device(xs), batch, true, 0), nOut);
        Run(x);
        var dx = Host(conv.Backward(Device(r), batch)!, nIn);
        Check("dx", x, Run, r, dx);
        var wq = Host(conv.Weights.Quantized, conv.Weights.Rows * conv.Weights.Cols);
        var dwq = Host(conv.Weights.QuantizedGradient, wq.Length);
        var g = conv.Geometry;
        var cols = backend.Allocate(batch * o.H * o.W, g.Patch);
        backend.Im2Col(Device(x), g, batch, conv.PadValue, cols);
        var colsHost = Host(cols, batch * o.H * o.W * g.Patch);
        float[] WithWeights(float[] wv)
        {
            var y = new float[nOut];
            CpuGemm.Reference(colsHost, false, wv, true, y, batch * o.H * o.W, f, g.Patch);
            return y;
        }
        Check("dWq", wq, WithWeights, r, dwq);
    }

    [Fact]
    public void Conv_padding_is_the_lowest_level_of_the_input()
    {
        var conv = new BinaryConv2D(1, 3, 1, 1);
        conv.Build(backend, new LayerInput(new Shape(2, 2, 1), 2, false), 1, new Random(1));
        Assert.Equal(-3f, conv.PadValue);
        var cols = backend.Allocate(4, 9);
        backend.Im2Col(Device([1f, 1f, 1f, 1f]), conv.Geometry, 1, conv.PadValue, cols);
        var row0 = Host(cols, 9);
        Assert.Equal(new[] { -3f, -3f, -3f, -3f, 1f, 1f, -3f, 1f, 1f }, row0);
    }

    [Fact]
    public void Max_pool()
    {
        var rng = new Random(4);
        int batch = 2;
        var pool = new MaxPool2D(2, 1);
        pool.Build(backend, new LayerInput(new Shape(5, 4, 3), 0, false), batch, rng);
        int nIn = batch * 60, nOut = batch * pool.OutputShape.Size;
        // Distinct values at least 0.1 apart: the finite difference never crosses a tie.
        var x = Enumerable.Range(0, nIn).Select(i => i * 0.1f).OrderBy(_ => rng.Next()).ToArray();
        var r = Rand(rng, nOut);
        float[] Run(float[] xs) => Host(pool.Forward(Device(xs), batch, true, 0), nOut);
        Run(x);
        var dx = Host(pool.Backward(Device(r), batch)!, nIn);
        Check("dx", x, Run, r, dx, h: 1e-2f);
    }

    [Fact]
    public void Dropout_is_its_own_linear_backward_and_repeats_its_mask()
    {
        var rng = new Random(5);
        int batch = 4, c = 50;
        var drop = new Dropout(0.3f) { RunSeed = 7, Index = 2 };
        drop.Build(backend, new LayerInput(new Shape(1, 1, c), 1, false), batch, rng);
        var x = Rand(rng, batch * c);
        var r = Rand(rng, batch * c);
        float[] Run(float[] xs) => Host(drop.Forward(Device(xs), batch, true, 11), batch * c);
        var y = Run(x);
        Assert.InRange(y.Count(v => v == 0f), 20, 100);
        var dx = Host(drop.Backward(Device(r), batch)!, batch * c);
        Check("dx", x, Run, r, dx);
        Assert.Equal(y, Run(x));
        var xt = Device(x);
        Assert.Same(xt, drop.Forward(xt, batch, false, 11));   // identity at inference
    }

    [Theory]
    [InlineData(LossKind.SquaredHinge)]
    [InlineData(LossKind.SoftmaxCrossEntropy)]
    public void Losses(LossKind kind)
    {
        var rng = new Random(6);
        int rows = 5, classes = 7;
        var scores = Rand(rng, rows * classes, 2);
        var labels = Device(Enumerable.Range(0, rows).Select(i => (float)rng.Next(classes)).ToArray());
        var loss = backend.Allocate(rows);
        var d = backend.Allocate(rows, classes);
        float[] Mean(float[] s)
        {
            backend.LossForwardBackward(kind, Device(s), labels, rows, classes, loss, d);
            return [Host(loss, rows).Sum() / rows];
        }
        Mean(scores);
        var grad = Host(d, rows * classes);
        Check("dscores", scores, Mean, [1f], grad, h: 1e-3f);
    }
}
