using System.Runtime.Intrinsics;
using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.Backends;

/// <summary>A tensor in host memory.</summary>
public sealed class CpuTensor(int[] shape) : Tensor(shape)
{
    public float[] Data { get; } = new float[ComputeLength(shape)];

    private static int ComputeLength(int[] shape)
    {
        long n = 1;
        foreach (int d in shape) n *= Math.Max(0, d);
        return (int)Math.Min(n, int.MaxValue);
    }
}

/// <summary>
/// The default backend: host memory, SIMD (Vector256 with FMA) and all cores. Work is split into fixed chunks and
/// every reduction has a fixed order, so a seeded run gives the same bits whatever the scheduling.
/// </summary>
public sealed class CpuBackend : IBackend
{
    public string Name => "cpu";

    public Tensor Allocate(params int[] shape) => new CpuTensor(shape);

    private static float[] D(Tensor t) => t is CpuTensor c ? c.Data : throw new ArgumentException($"{t} does not belong to the CPU backend");

    public void Upload(ReadOnlySpan<float> source, Tensor destination) => source.CopyTo(D(destination));

    public void Download(Tensor source, Span<float> destination) => D(source).AsSpan(0, destination.Length).CopyTo(destination);

    public void Copy(Tensor source, Tensor destination, int count) => D(source).AsSpan(0, count).CopyTo(D(destination));

    public void Fill(Tensor tensor, float value) => Array.Fill(D(tensor), value);

    public void Gemm(Tensor a, bool transposeA, Tensor b, bool transposeB, Tensor c, int m, int n, int k, float alpha = 1f, float beta = 0f) =>
        CpuGemm.Multiply(D(a), transposeA, D(b), transposeB, D(c), m, n, k, alpha, beta);

    public void SignGemm(Tensor a, Tensor b, Tensor c, int m, int n, int k) => global::Qnn.Trainer.Backends.SignGemm.Multiply(D(a), D(b), D(c), m, n, k);

    /// <summary>Elements of one unit of parallel elementwise work: small enough that a batch of 100 × 1024 values
    /// keeps every core busy, large enough that the scheduling costs little.</summary>
    private const int ChunkElements = 1 << 15;

    /// <summary>Rows of <paramref name="channels"/> values that make about one chunk of elementwise work.</summary>
    private static int RowChunk(int channels) => Math.Max(1, ChunkElements / Math.Max(1, channels));

    /// <summary>Runs body over [0, count) in fixed chunks (results never depend on the split: elementwise only).</summary>
    private static void Chunks(int count, Action<int, int> body, int chunk = ChunkElements)
    {
        if (count <= chunk)
        {
            body(0, count);
            return;
        }
        int n = (count + chunk - 1) / chunk;
        Parallel.For(0, n, i => body(i * chunk, Math.Min(count, i * chunk + chunk)));
    }

    public void Quantize(Tensor x, Tensor y, int count, int bits)
    {
        float[] xs = D(x), ys = D(y);
        if (bits == 1)
        {
            Chunks(count, (s, e) =>
            {
                int i = s;
                var one = Vector256.Create(1f);
                var minus = Vector256.Create(-1f);
                var zero = Vector256<float>.Zero;
                for (; i + 8 <= e; i += 8)
                {
                    var v = Vector256.Create(xs.AsSpan(i, 8));
                    Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(v, zero), one, minus).CopyTo(ys.AsSpan(i, 8));
                }
                for (; i < e; i++) ys[i] = xs[i] >= 0f ? 1f : -1f;
            });
            return;
        }
        Chunks(count, (s, e) =>
        {
            for (int i = s; i < e; i++) ys[i] = Levels.Quantize(xs[i], bits);
        });
    }

    public void QuantizeActivation(Tensor x, Tensor y, int count, int bits, ActivationQuantizer quantizer, ulong seed)
    {
        if (quantizer == ActivationQuantizer.Odd)
        {
            Quantize(x, y, count, bits);
            return;
        }
        float[] xs = D(x), ys = D(y);
        Chunks(count, (s, e) =>
        {
            for (int i = s; i < e; i++) ys[i] = ActivationQuantizers.Training((int)quantizer, xs[i], bits, seed, i);
        });
    }

    public void QuantizeWeights(Tensor x, Tensor y, int count, int bits, WeightQuantizer quantizer, ulong seed)
    {
        float[] xs = D(x), ys = D(y);
        Chunks(count, (s, e) =>
        {
            for (int i = s; i < e; i++) ys[i] = WeightQuantizers.Training((int)quantizer, xs[i], bits, seed, i);
        });
    }

    public void QuantizeBackward(Tensor x, Tensor dy, Tensor dx, int count, float scale, StraightThrough estimator)
    {
        float[] xs = D(x), dys = D(dy), dxs = D(dx);
        Chunks(count, (s, e) =>
        {
            int i = s;
            var sc = Vector256.Create(scale);
            var one = Vector256.Create(1f);
            for (; i + 8 <= e; i += 8)
            {
                var g = sc * Vector256.Create(dys.AsSpan(i, 8));
                // StraightThroughEstimator.Gradient per lane: !(|x| <= 1) is also true for NaN, as in the scalar tail.
                if (estimator == StraightThrough.HardTanh) g = Vector256.ConditionalSelect(Vector256.LessThanOrEqual(Vector256.Abs(Vector256.Create(xs.AsSpan(i, 8))), one), g, Vector256<float>.Zero);
                g.CopyTo(dxs.AsSpan(i, 8));
            }
            for (; i < e; i++) dxs[i] = StraightThroughEstimator.Gradient(estimator, xs[i], dys[i], scale);
        });
    }

    /// <summary>Runs body over channel blocks; each channel is reduced over all rows in row order by one thread.</summary>
    private static void ChannelBlocks(int channels, long work, Action<int, int> body)
    {
        const int block = 16;
        int n = (channels + block - 1) / block;
        if (n == 1 || work < ChunkElements) body(0, channels);
        else Parallel.For(0, n, b => body(b * block, Math.Min(channels, b * block + block)));
    }

    public void BatchNormTrain(Tensor x, int rows, int channels, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor invStd,
        Tensor runningMean, Tensor runningVar, float momentum, float epsilon, bool sharedScale)
    {
        float[] xs = D(x), g = D(gamma), bt = D(beta), ys = D(y), mu = D(mean), inv = D(invStd), rm = D(runningMean), rv = D(runningVar);
        var variance = new double[channels];
        ChannelBlocks(channels, (long)rows * channels, (c0, c1) =>
        {
            int w = c1 - c0;
            var sum = new double[w];
            ColumnSums(xs, rows, channels, c0, w, null, sum);
            for (int c = 0; c < w; c++) sum[c] /= rows;
            var sq = new double[w];
            ColumnSums(xs, rows, channels, c0, w, sum, sq);
            for (int c = 0; c < w; c++)
            {
                mu[c0 + c] = (float)sum[c];
                variance[c0 + c] = sq[c] / rows;
            }
        });
        double unbiased = rows > 1 ? (double)rows / (rows - 1) : 1.0;
        if (sharedScale)
        {
            double v = 0;
            for (int c = 0; c < channels; c++) v += variance[c];
            v /= channels;
            inv[0] = (float)(1.0 / Math.Sqrt(v + epsilon));
            rv[0] = (float)((1 - momentum) * rv[0] + momentum * v * unbiased);
        }
        else
        {
            for (int c = 0; c < channels; c++)
            {
                inv[c] = (float)(1.0 / Math.Sqrt(variance[c] + epsilon));
                rv[c] = (float)((1 - momentum) * rv[c] + momentum * variance[c] * unbiased);
            }
        }
        for (int c = 0; c < channels; c++) rm[c] = (float)((1 - momentum) * rm[c] + momentum * mu[c]);
        Chunks(rows, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int o = r * channels, c = 0;
                if (!sharedScale)
                    for (; c + 8 <= channels; c += 8)
                    {
                        var xhat = (V(xs, o + c) - V(mu, c)) * V(inv, c);
                        (V(g, c) * xhat + V(bt, c)).CopyTo(ys.AsSpan(o + c, 8));
                    }
                for (; c < channels; c++)
                {
                    int s = sharedScale ? 0 : c;
                    ys[o + c] = g[s] * ((xs[o + c] - mu[c]) * inv[s]) + bt[c];
                }
            }
        }, RowChunk(channels));
    }

    private static Vector256<float> V(float[] a, int i) => Vector256.Create(a.AsSpan(i, 8));
    private static Vector256<float> V(Span<float> a, int i) => Vector256.Create(a.Slice(i, 8));

    /// <summary>
    /// sums[c] = Σ over rows, in row order, of x[r, c0 + c] (or of (x − mean[c])² when <paramref name="mean"/> is
    /// given), in double. Eight channels go side by side in vector lanes: each lane is the scalar sum, bit for bit.
    /// </summary>
    private static void ColumnSums(float[] xs, int rows, int channels, int c0, int w, double[]? mean, double[] sums)
    {
        int c = 0;
        for (; c + 8 <= w; c += 8)
        {
            Vector256<double> lo = default, hi = default;
            var mLo = mean is null ? default : Vector256.Create(mean.AsSpan(c, 4));
            var mHi = mean is null ? default : Vector256.Create(mean.AsSpan(c + 4, 4));
            for (int r = 0; r < rows; r++)
            {
                var v = V(xs, r * channels + c0 + c);
                var vLo = Vector256.WidenLower(v);
                var vHi = Vector256.WidenUpper(v);
                if (mean is null)
                {
                    lo += vLo;
                    hi += vHi;
                }
                else
                {
                    var dLo = vLo - mLo;
                    var dHi = vHi - mHi;
                    lo += dLo * dLo;
                    hi += dHi * dHi;
                }
            }
            lo.CopyTo(sums.AsSpan(c, 4));
            hi.CopyTo(sums.AsSpan(c + 4, 4));
        }
        for (; c < w; c++)
        {
            double sum = 0;
            for (int r = 0; r < rows; r++)
            {
                double x = xs[(long)r * channels + c0 + c];
                if (mean is null) sum += x;
                else
                {
                    double d = x - mean[c];
                    sum += d * d;
                }
            }
            sums[c] = sum;
        }
    }

    public void BatchNormBackward(Tensor x, Tensor dy, int rows, int channels, Tensor gamma, Tensor mean, Tensor invStd,
        Tensor dx, Tensor dGamma, Tensor dBeta, bool sharedScale)
    {
        float[] xs = D(x), dys = D(dy), g = D(gamma), mu = D(mean), inv = D(invStd), dxs = D(dx), dg = D(dGamma), db = D(dBeta);
        var sumDy = new double[channels];
        var sumDyXhat = new double[channels];
        ChannelBlocks(channels, (long)rows * channels, (c0, c1) =>
        {
            int c = c0;
            // Eight channels in vector lanes, each summed over the rows in order: the scalar sums bit for bit.
            for (; c + 8 <= c1; c += 8)
            {
                Vector256<double> dyLo = default, dyHi = default, pLo = default, pHi = default;
                var m = V(mu, c);
                var iv = sharedScale ? Vector256.Create(inv[0]) : V(inv, c);
                for (int r = 0; r < rows; r++)
                {
                    int o = r * channels + c;
                    var xhat = (V(xs, o) - m) * iv;
                    var d = V(dys, o);
                    var dLo = Vector256.WidenLower(d);
                    var dHi = Vector256.WidenUpper(d);
                    dyLo += dLo;
                    dyHi += dHi;
                    pLo += dLo * Vector256.WidenLower(xhat);
                    pHi += dHi * Vector256.WidenUpper(xhat);
                }
                dyLo.CopyTo(sumDy.AsSpan(c, 4));
                dyHi.CopyTo(sumDy.AsSpan(c + 4, 4));
                pLo.CopyTo(sumDyXhat.AsSpan(c, 4));
                pHi.CopyTo(sumDyXhat.AsSpan(c + 4, 4));
            }
            for (int r = 0; r < rows && c < c1; r++)
            {
                long o = (long)r * channels;
                for (int cc = c; cc < c1; cc++)
                {
                    float xhat = (xs[o + cc] - mu[cc]) * inv[sharedScale ? 0 : cc];
                    sumDy[cc] += dys[o + cc];
                    sumDyXhat[cc] += (double)dys[o + cc] * xhat;
                }
            }
        });
        for (int c = 0; c < channels; c++) db[c] = (float)sumDy[c];
        var meanDy = new float[channels];
        var coef = new float[channels];   // mean over the variance group of dy·xhat
        if (sharedScale)
        {
            double total = 0;
            for (int c = 0; c < channels; c++) total += sumDyXhat[c];
            dg[0] = (float)total;
            for (int c = 0; c < channels; c++) coef[c] = (float)(total / ((double)rows * channels));
        }
        else
        {
            for (int c = 0; c < channels; c++)
            {
                dg[c] = (float)sumDyXhat[c];
                coef[c] = (float)(sumDyXhat[c] / rows);
            }
        }
        for (int c = 0; c < channels; c++) meanDy[c] = (float)(sumDy[c] / rows);
        Chunks(rows, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                int o = r * channels, c = 0;
                if (!sharedScale)
                    for (; c + 8 <= channels; c += 8)
                    {
                        var xhat = (V(xs, o + c) - V(mu, c)) * V(inv, c);
                        (V(g, c) * V(inv, c) * (V(dys, o + c) - V(meanDy, c) - xhat * V(coef, c))).CopyTo(dxs.AsSpan(o + c, 8));
                    }
                for (; c < channels; c++)
                {
                    int s = sharedScale ? 0 : c;
                    float xhat = (xs[o + c] - mu[c]) * inv[s];
                    dxs[o + c] = g[s] * inv[s] * (dys[o + c] - meanDy[c] - xhat * coef[c]);
                }
            }
        }, RowChunk(channels));
    }

    public void ScaleShift(Tensor x, int rows, int channels, Tensor scale, Tensor shift, Tensor y)
    {
        float[] xs = D(x), a = D(scale), b = D(shift), ys = D(y);
        Chunks(rows, (r0, r1) =>
        {
            for (int r = r0; r < r1; r++)
            {
                long o = (long)r * channels;
                for (int c = 0; c < channels; c++) ys[o + c] = MathF.FusedMultiplyAdd(xs[o + c], a[c], b[c]);
            }
        }, RowChunk(channels));
    }

    public void Im2Col(Tensor x, ConvGeometry g, int batch, float padValue, Tensor cols)
    {
        float[] xs = D(x), cs = D(cols);
        int patch = g.Patch, c = g.InC;
        Parallel.For(0, batch, n =>
        {
            long inBase = (long)n * g.InH * g.InW * c;
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    long row = ((long)(n * g.OutH + oy) * g.OutW + ox) * patch;
                    for (int ky = 0; ky < g.KernelH; ky++)
                    {
                        int iy = oy * g.StrideH - g.PadTop + ky;
                        for (int kx = 0; kx < g.KernelW; kx++)
                        {
                            int ix = ox * g.StrideW - g.PadLeft + kx;
                            var dst = cs.AsSpan((int)(row + (ky * g.KernelW + kx) * c), c);
                            if (iy < 0 || iy >= g.InH || ix < 0 || ix >= g.InW) dst.Fill(padValue);
                            else xs.AsSpan((int)(inBase + ((long)iy * g.InW + ix) * c), c).CopyTo(dst);
                        }
                    }
                }
        });
    }

    public void Col2Im(Tensor cols, ConvGeometry g, int batch, Tensor dx)
    {
        float[] cs = D(cols), dxs = D(dx);
        int patch = g.Patch, c = g.InC;
        Parallel.For(0, batch, n =>
        {
            long inBase = (long)n * g.InH * g.InW * c;
            dxs.AsSpan((int)inBase, g.InH * g.InW * c).Clear();
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    long row = ((long)(n * g.OutH + oy) * g.OutW + ox) * patch;
                    for (int ky = 0; ky < g.KernelH; ky++)
                    {
                        int iy = oy * g.StrideH - g.PadTop + ky;
                        if (iy < 0 || iy >= g.InH) continue;
                        for (int kx = 0; kx < g.KernelW; kx++)
                        {
                            int ix = ox * g.StrideW - g.PadLeft + kx;
                            if (ix < 0 || ix >= g.InW) continue;
                            int s = (int)(row + (ky * g.KernelW + kx) * c), d = (int)(inBase + ((long)iy * g.InW + ix) * c);
                            // Eight channels at a time: each element's sums in the same (oy, ox, ky, kx) order.
                            int ch = 0;
                            for (; ch + 8 <= c; ch += 8) (V(dxs, d + ch) + V(cs, s + ch)).CopyTo(dxs.AsSpan(d + ch, 8));
                            for (; ch < c; ch++) dxs[d + ch] += cs[s + ch];
                        }
                    }
                }
        });
    }

    /// <summary>
    /// y = the max over each window by MathF.Max (NaN wins, +0 over −0), eight channels at a time where C allows,
    /// each lane following MathF.Max's rule exactly.
    /// </summary>
    public void MaxPool(Tensor x, PoolGeometry g, int batch, Tensor y)
    {
        float[] xs = D(x), ys = D(y);
        Parallel.For(0, batch, n =>
        {
            long inBase = (long)n * g.InH * g.InW * g.C, outBase = (long)n * g.OutH * g.OutW * g.C;
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    var dst = ys.AsSpan((int)(outBase + ((long)oy * g.OutW + ox) * g.C), g.C);
                    dst.Fill(float.NegativeInfinity);
                    for (int py = 0; py < g.PoolH; py++)
                        for (int px = 0; px < g.PoolW; px++)
                        {
                            var src = xs.AsSpan(WindowAt(g, inBase, oy, ox, py, px), g.C);
                            int ch = 0;
                            for (; ch + 8 <= g.C; ch += 8)
                            {
                                var best = V(dst, ch);
                                var v = V(src, ch);
                                // MathF.Max(best, v) as .NET computes it: a NaN v wins (even over a NaN best), a NaN
                                // best stays; else v if v > best, or v equals best and is not negative (+0 replaces −0,
                                // −0 does not replace +0).
                                var equalNotNegative = Vector256.Equals(v, best) & Vector256.GreaterThanOrEqual(v.AsInt32(), Vector256<int>.Zero).AsSingle();
                                var take = ~Vector256.Equals(v, v) | (Vector256.Equals(best, best) & (Vector256.GreaterThan(v, best) | equalNotNegative));
                                Vector256.ConditionalSelect(take, v, best).CopyTo(dst[ch..]);
                            }
                            for (; ch < g.C; ch++) dst[ch] = MathF.Max(dst[ch], src[ch]);
                        }
                }
        });
    }

    /// <summary>Where channel 0 of position (py, px) of output (oy, ox)'s window lies in x.</summary>
    private static int WindowAt(PoolGeometry g, long inBase, int oy, int ox, int py, int px) =>
        (int)(inBase + ((long)(oy * g.StrideH + py) * g.InW + ox * g.StrideW + px) * g.C);

    /// <summary>
    /// dx gets each window's dy at the first position (in scan order) equal to the window's max; eight channels at a
    /// time where C allows, the same additions in the same order per element (a lane not taken adds nothing).
    /// </summary>
    public void MaxPoolBackward(Tensor x, Tensor y, Tensor dy, PoolGeometry g, int batch, Tensor dx)
    {
        float[] xs = D(x), ys = D(y), dys = D(dy), dxs = D(dx);
        Parallel.For(0, batch, n =>
        {
            long inBase = (long)n * g.InH * g.InW * g.C, outBase = (long)n * g.OutH * g.OutW * g.C;
            dxs.AsSpan((int)inBase, g.InH * g.InW * g.C).Clear();
            for (int oy = 0; oy < g.OutH; oy++)
                for (int ox = 0; ox < g.OutW; ox++)
                {
                    int o = (int)(outBase + ((long)oy * g.OutW + ox) * g.C);
                    int ch = 0;
                    for (; ch + 8 <= g.C; ch += 8)
                    {
                        var best = V(ys, o + ch);
                        var grad = V(dys, o + ch);
                        var open = Vector256<float>.AllBitsSet;
                        for (int p = 0; p < g.PoolH * g.PoolW; p++)
                        {
                            int s = WindowAt(g, inBase, oy, ox, p / g.PoolW, p % g.PoolW) + ch;
                            var hit = Vector256.Equals(V(xs, s), best) & open;
                            if (hit == Vector256<float>.Zero) continue;
                            var d = V(dxs, s);
                            Vector256.ConditionalSelect(hit, d + grad, d).CopyTo(dxs.AsSpan(s, 8));
                            open &= ~hit;
                        }
                    }
                    for (; ch < g.C; ch++)
                    {
                        float best = ys[o + ch];
                        for (int p = 0; p < g.PoolH * g.PoolW; p++)
                        {
                            int s = WindowAt(g, inBase, oy, ox, p / g.PoolW, p % g.PoolW) + ch;
                            if (xs[s] == best)
                            {
                                dxs[s] += dys[o + ch];
                                break;
                            }
                        }
                    }
                }
        });
    }

    public void Dropout(Tensor x, Tensor y, int count, float rate, ulong seed)
    {
        float[] xs = D(x), ys = D(y);
        float keepScale = 1f / (1f - rate);
        uint threshold = DropoutMask.Threshold(rate);
        Chunks(count, (s, e) =>
        {
            int i = s;
            if (Vector512.IsHardwareAccelerated)
            {
                // Sixteen hashes at once (64-bit lanes, then narrowed): the same keep decisions as DropoutMask.Keep.
                var lane = Vector512.Create(1UL, 2, 3, 4, 5, 6, 7, 8);
                var scale = Vector512.Create(keepScale);
                var thr = Vector512.Create(threshold);
                for (; i + 16 <= e; i += 16)
                {
                    var lo = DropoutMask.Bits(seed, Vector512.Create((ulong)(uint)i) + lane);
                    var hi = DropoutMask.Bits(seed, Vector512.Create((ulong)(uint)(i + 8)) + lane);
                    var keep = Vector512.GreaterThanOrEqual(Vector512.Narrow(lo, hi), thr).AsSingle();
                    Vector512.ConditionalSelect(keep, Vector512.Create(xs.AsSpan(i, 16)) * scale, Vector512<float>.Zero).CopyTo(ys.AsSpan(i, 16));
                }
            }
            for (; i < e; i++) ys[i] = DropoutMask.Keep(seed, i, rate) ? xs[i] * keepScale : 0f;
        });
    }

    public void LossForwardBackward(LossKind kind, Tensor scores, Tensor labels, int rows, int classes, Tensor loss, Tensor dScores)
    {
        float[] ys = D(scores), ts = D(labels), ls = D(loss), ds = D(dScores);
        for (int r = 0; r < rows; r++)
        {
            int label = (int)ts[r];
            int o = r * classes;
            if (kind == LossKind.SquaredHinge)
            {
                // The paper's loss: mean over samples and classes of max(0, 1 − t·y)², t = ±1 one-hot.
                double sum = 0;
                for (int c = 0; c < classes; c++)
                {
                    float margin = LossRule.HingeMargin(ys[o + c], c == label);
                    sum += (double)margin * margin;
                    ds[o + c] = LossRule.HingeGradient(margin, c == label, rows, classes);
                }
                ls[r] = (float)(sum / classes);
            }
            else
            {
                float max = float.NegativeInfinity;
                for (int c = 0; c < classes; c++) max = MathF.Max(max, ys[o + c]);
                double z = 0;
                for (int c = 0; c < classes; c++) z += Math.Exp(ys[o + c] - max);
                for (int c = 0; c < classes; c++) ds[o + c] = LossRule.SoftmaxGradient(ys[o + c], max, z, c == label, rows);
                ls[r] = LossRule.SoftmaxLoss(z, max, ys[o + label]);
            }
        }
    }

    public void AdamStep(Tensor parameter, Tensor gradient, Tensor m, Tensor v, int count, float stepSize, float beta1, float beta2,
        float epsilon, float clipLow, float clipHigh)
    {
        float[] p = D(parameter), g = D(gradient), ms = D(m), vs = D(v);
        Chunks(count, (s, e) =>
        {
            int i = s;
            var b1 = Vector256.Create(beta1);
            var c1 = Vector256.Create(1f - beta1);
            var b2 = Vector256.Create(beta2);
            var c2 = Vector256.Create(1f - beta2);
            var step = Vector256.Create(stepSize);
            var eps = Vector256.Create(epsilon);
            var lo = Vector256.Create(clipLow);
            var hi = Vector256.Create(clipHigh);
            for (; i + 8 <= e; i += 8)
            {
                // AdamRule's operations, in the same order, as the scalar tail below: lanes give identical bits.
                var gi = Vector256.Create(g.AsSpan(i, 8));
                var mi = b1 * Vector256.Create(ms.AsSpan(i, 8)) + c1 * gi;
                var vi = b2 * Vector256.Create(vs.AsSpan(i, 8)) + c2 * gi * gi;
                mi.CopyTo(ms.AsSpan(i, 8));
                vi.CopyTo(vs.AsSpan(i, 8));
                var pi = Vector256.Create(p.AsSpan(i, 8)) - step * mi / (Vector256.Sqrt(vi) + eps);
                Vector256.Min(hi, Vector256.Max(lo, pi)).CopyTo(p.AsSpan(i, 8));
            }
            for (; i < e; i++)
            {
                float mi = AdamRule.NextMoment(ms[i], g[i], beta1);
                float vi = AdamRule.NextVariance(vs[i], g[i], beta2);
                ms[i] = mi;
                vs[i] = vi;
                p[i] = AdamRule.NextParameter(p[i], mi, vi, stepSize, epsilon, clipLow, clipHigh);
            }
        });
    }

    public void Dispose()
    {
    }
}
