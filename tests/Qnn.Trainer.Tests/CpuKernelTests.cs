using Qnn.Trainer.Backends;

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
        backend.QuantizeBackward(xt, dyt, dxt, 1001, 3f, cancelOutside: true);
        var dx = Download(backend, dxt);
        for (int i = 0; i < x.Length; i++) Assert.Equal(MathF.Abs(x[i]) <= 1f ? 3f * dy[i] : 0f, dx[i]);
    }
}
