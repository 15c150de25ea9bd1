using Qnn.Trainer.Backends;
using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.Tests;

/// <summary>
/// The CPU backend's vectorized elementwise kernels give the bits of their scalar definitions: every lane of a
/// vector does the scalar operations in the scalar order (sizes chosen to mix vector bodies and scalar tails).
/// </summary>
public class CpuKernelTests
{
    private static float[] Values(Random rng, int n, float scale = 2f) =>
        Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();

    private static Tensor Upload(IBackend backend, float[] values)
    {
        var t = backend.Allocate(values.Length);
        backend.Upload(values, t);
        return t;
    }

    private static float[] Download(IBackend backend, Tensor t)
    {
        var a = new float[t.Length];
        backend.Download(t, a);
        return a;
    }

    [Theory]
    [InlineData(100_003, 0.2f)]
    [InlineData(77, 0.5f)]
    [InlineData(40_000, 0f)]
    public void Dropout_keeps_exactly_what_the_mask_says(int n, float rate)
    {
        var backend = new CpuBackend();
        var x = Values(new Random(n), n);
        using var xt = Upload(backend, x);
        using var yt = backend.Allocate(n);
        const ulong seed = 0xDEADBEEF12345UL;
        backend.Dropout(xt, yt, n, rate, seed);
        var y = Download(backend, yt);
        float keep = 1f / (1f - rate);
        for (int i = 0; i < n; i++) Assert.Equal(DropoutMask.Keep(seed, i, rate) ? x[i] * keep : 0f, y[i]);
    }

    [Theory]
    [InlineData(100, 1027, false)]
    [InlineData(33, 19, true)]
    public void Batch_norm_matches_its_scalar_definition_bit_for_bit(int rows, int channels, bool shared)
    {
        var backend = new CpuBackend();
        var rng = new Random(rows + channels);
        var x = Values(rng, rows * channels, 50f);
        var dy = Values(rng, rows * channels);
        var gamma = Values(rng, shared ? 1 : channels);
        var beta = Values(rng, channels);
        using var xt = Upload(backend, x);
        using var dyt = Upload(backend, dy);
        using var gt = Upload(backend, gamma);
        using var bt = Upload(backend, beta);
        using var yt = backend.Allocate(rows * channels);
        using var dxt = backend.Allocate(rows * channels);
        using var mean = backend.Allocate(channels);
        using var inv = backend.Allocate(shared ? 1 : channels);
        using var rm = backend.Allocate(channels);
        using var rv = backend.Allocate(shared ? 1 : channels);
        using var dg = backend.Allocate(shared ? 1 : channels);
        using var db = backend.Allocate(channels);
        backend.BatchNormTrain(xt, rows, channels, gt, bt, yt, mean, inv, rm, rv, 0.1f, 1e-4f, shared);
        backend.BatchNormBackward(xt, dyt, rows, channels, gt, mean, inv, dxt, dg, db, shared);
        float[] mu = Download(backend, mean), iv = Download(backend, inv), y = Download(backend, yt), dx = Download(backend, dxt);
        float[] dGamma = Download(backend, dg), dBeta = Download(backend, db);

        var variance = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            double s = 0, q = 0;
            for (int r = 0; r < rows; r++) s += x[r * channels + c];
            s /= rows;
            for (int r = 0; r < rows; r++) { double d = x[r * channels + c] - s; q += d * d; }
            Assert.Equal((float)s, mu[c]);
            variance[c] = q / rows;
        }
        if (shared) Assert.Equal((float)(1.0 / Math.Sqrt(variance.Sum() / channels + 1e-4f)), iv[0]);
        else for (int c = 0; c < channels; c++) Assert.Equal((float)(1.0 / Math.Sqrt(variance[c] + 1e-4f)), iv[c]);

        var sumDy = new double[channels];
        var sumDyXhat = new double[channels];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < channels; c++)
            {
                int s = shared ? 0 : c, i = r * channels + c;
                float xhat = (x[i] - mu[c]) * iv[s];
                Assert.Equal(gamma[s] * xhat + beta[c], y[i]);
                sumDy[c] += dy[i];
                sumDyXhat[c] += (double)dy[i] * xhat;
            }
        for (int c = 0; c < channels; c++) Assert.Equal((float)sumDy[c], dBeta[c]);
        if (!shared)
            for (int c = 0; c < channels; c++)
            {
                Assert.Equal((float)sumDyXhat[c], dGamma[c]);
                float meanDy = (float)(sumDy[c] / rows), coef = (float)(sumDyXhat[c] / rows);
                for (int r = 0; r < rows; r++)
                {
                    int i = r * channels + c;
                    float xhat = (x[i] - mu[c]) * iv[c];
                    Assert.Equal(gamma[c] * iv[c] * (dy[i] - meanDy - xhat * coef), dx[i]);
                }
            }
    }

    [Fact]
    public void Straight_through_backward_cancels_outside_one_including_nan()
    {
        var backend = new CpuBackend();
        var x = Values(new Random(3), 1001, 3f);
        x[5] = float.NaN;
        x[6] = 1f;
        x[7] = -1f;
        var dy = Values(new Random(4), 1001);
        using var xt = Upload(backend, x);
        using var dyt = Upload(backend, dy);
        using var dxt = backend.Allocate(1001);
        backend.QuantizeBackward(xt, dyt, dxt, 1001, 3f, StraightThrough.HardTanh);
        var dx = Download(backend, dxt);
        for (int i = 0; i < x.Length; i++) Assert.Equal(MathF.Abs(x[i]) <= 1f ? 3f * dy[i] : 0f, dx[i]);
    }
    /// <summary>The Vector256 lanes of the CPU's Adam step restate <see cref="AdamRule"/>: every element equals the scalar rule.</summary>
    [Fact]
    public void Adam_step_lanes_equal_the_shared_rule_bit_for_bit()
    {
        var backend = new CpuBackend();
        const int n = 1003;
        var p = Values(new Random(5), n, 1.5f);
        var g = Values(new Random(6), n, 0.1f);
        var m = Values(new Random(7), n, 0.01f);
        var v = Values(new Random(8), n, 0.001f);
        for (int i = 0; i < n; i++) v[i] = MathF.Abs(v[i]);
        using var pt = Upload(backend, p);
        using var gt = Upload(backend, g);
        using var mt = Upload(backend, m);
        using var vt = Upload(backend, v);
        backend.AdamStep(pt, gt, mt, vt, n, 0.003f, 0.9f, 0.999f, 1e-8f, -1f, 1f);
        float[] pd = Download(backend, pt), md = Download(backend, mt), vd = Download(backend, vt);
        for (int i = 0; i < n; i++)
        {
            float mi = AdamRule.NextMoment(m[i], g[i], 0.9f), vi = AdamRule.NextVariance(v[i], g[i], 0.999f);
            Assert.Equal(BitConverter.SingleToInt32Bits(mi), BitConverter.SingleToInt32Bits(md[i]));
            Assert.Equal(BitConverter.SingleToInt32Bits(vi), BitConverter.SingleToInt32Bits(vd[i]));
            float pi = AdamRule.NextParameter(p[i], mi, vi, 0.003f, 1e-8f, -1f, 1f);
            Assert.Equal(BitConverter.SingleToInt32Bits(pi), BitConverter.SingleToInt32Bits(pd[i]));
        }
    }

    /// <summary>Max-pool forward and backward against their scalar definitions, with ties, ±0 and NaN in the windows.</summary>
    [Theory]
    [InlineData(7, 7, 20, 2, 2)]
    [InlineData(6, 5, 16, 3, 2)]
    [InlineData(4, 4, 3, 2, 1)]
    public void Max_pool_matches_its_scalar_definition_bit_for_bit(int h, int w, int c, int pool, int stride)
    {
        var backend = new CpuBackend();
        var rng = new Random(h * 100 + c);
        int batch = 3, oh = (h - pool) / stride + 1, ow = (w - pool) / stride + 1;
        var g = new PoolGeometry(h, w, c, pool, pool, stride, stride, oh, ow);
        float[] special = [0f, -0f, float.NaN, 1f, -1f, 2f];
        // Few distinct values: ties and the special values meet in most windows.
        var x = Enumerable.Range(0, batch * h * w * c).Select(_ => rng.Next(3) == 0 ? special[rng.Next(special.Length)] : rng.Next(-2, 3)).Select(v => (float)v).ToArray();
        for (int i = 0; i < x.Length; i++) if (rng.Next(17) == 0) x[i] = BitConverter.Int32BitsToSingle(unchecked((int)0xFFC00000) | rng.Next(1 << 20)); // NaNs of other payloads
        var dy = Values(rng, batch * oh * ow * c);
        using var xt = Upload(backend, x);
        using var yt = backend.Allocate(batch * oh * ow * c);
        using var dyt = Upload(backend, dy);
        using var dxt = backend.Allocate(x.Length);
        backend.MaxPool(xt, g, batch, yt);
        backend.MaxPoolBackward(xt, yt, dyt, g, batch, dxt);
        var y = Download(backend, yt);
        var dx = Download(backend, dxt);
        var ey = new float[y.Length];
        var edx = new float[x.Length];
        for (int n = 0; n < batch; n++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int ch = 0; ch < c; ch++)
                    {
                        int o = ((n * oh + oy) * ow + ox) * c + ch;
                        float best = float.NegativeInfinity;
                        for (int p = 0; p < pool * pool; p++) best = MathF.Max(best, x[In(n, oy * stride + p / pool, ox * stride + p % pool, ch)]);
                        ey[o] = best;
                        for (int p = 0; p < pool * pool; p++)
                        {
                            int s = In(n, oy * stride + p / pool, ox * stride + p % pool, ch);
                            if (x[s] == best) { edx[s] += dy[o]; break; }
                        }
                    }
        Assert.Equal(ey.Select(BitConverter.SingleToInt32Bits), y.Select(BitConverter.SingleToInt32Bits));
        Assert.Equal(edx.Select(BitConverter.SingleToInt32Bits), dx.Select(BitConverter.SingleToInt32Bits));

        int In(int n, int iy, int ix, int ch) => ((n * h + iy) * w + ix) * c + ch;
    }
    /// <summary>Col2Im (the conv input gradient's scatter-add) against its scalar loop, channels past a vector included.</summary>
    [Theory]
    [InlineData(9, 7, 20, 3, 1, 1)]
    [InlineData(8, 8, 16, 3, 2, 1)]
    [InlineData(5, 6, 3, 2, 1, 0)]
    public void Col2im_matches_its_scalar_definition_bit_for_bit(int h, int w, int c, int k, int stride, int pad)
    {
        var backend = new CpuBackend();
        var rng = new Random(h * 1000 + w * 10 + c);
        int batch = 2, oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
        var g = new ConvGeometry(h, w, c, k, k, stride, stride, pad, pad, oh, ow);
        var cols = Values(rng, batch * oh * ow * g.Patch, 3f);
        using var ct = Upload(backend, cols);
        using var dxt = backend.Allocate(batch * h * w * c);
        backend.Col2Im(ct, g, batch, dxt);
        var expected = new float[batch * h * w * c];
        for (int n = 0; n < batch; n++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++)
                        {
                            int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            for (int ch = 0; ch < c; ch++)
                                expected[((n * h + iy) * w + ix) * c + ch] += cols[((n * oh + oy) * ow + ox) * g.Patch + (ky * k + kx) * c + ch];
                        }
        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), Download(backend, dxt).Select(BitConverter.SingleToInt32Bits));
    }
}
