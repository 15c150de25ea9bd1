using ILGPU;
using Qnn.Trainer.LowPrecision;

namespace Qnn.Trainer.Gpu.Kernels;

/// <summary>Shape and scalars of a batch-norm call over a rows × channels matrix.</summary>
public readonly record struct NormArgs(int Rows, int Channels, int Shared, float Momentum, float Epsilon, double Unbiased);

/// <summary>
/// Exact and shift-based batch norm (BNN paper, Algorithm 3). Statistics: one thread per channel reduces all rows
/// in row order in double, as the CPU backend does, so both give the same bits; the finishing kernels are the CPU's
/// scalar code per channel (or per shared scale); the normalization is element-wise.
/// </summary>
public static class BatchNormKernels
{
    private static int S(NormArgs a, int c) => a.Shared != 0 ? 0 : c;

    /// <summary>Mean and (biased) variance per channel, two passes in double.</summary>
    public static void Statistics(Index1D c, ArrayView<float> x, ArrayView<float> mean, ArrayView<double> variance, NormArgs a)
    {
        double sum = 0;
        for (int r = 0; r < a.Rows; r++) sum += x[(long)r * a.Channels + c];
        sum /= a.Rows;
        double sq = 0;
        for (int r = 0; r < a.Rows; r++)
        {
            double d = x[(long)r * a.Channels + c] - sum;
            sq += d * d;
        }
        mean[c] = (float)sum;
        variance[c] = sq / a.Rows;
    }

    /// <summary>1/σ and the running statistics: one thread per scale (thread 0 also blends the running means).</summary>
    public static void Finish(Index1D s, ArrayView<double> variance, ArrayView<float> mean, ArrayView<float> invStd,
        ArrayView<float> runningMean, ArrayView<float> runningVar, NormArgs a)
    {
        float momentum = a.Momentum;
        double v = variance[s];
        if (a.Shared != 0)
        {
            v = 0;
            for (int c = 0; c < a.Channels; c++) v += variance[c];
            v /= a.Channels;
        }
        invStd[s] = (float)(1.0 / Math.Sqrt(v + a.Epsilon));
        runningVar[s] = (float)((1 - momentum) * runningVar[s] + momentum * v * a.Unbiased);
        if (s == 0)
            for (int c = 0; c < a.Channels; c++) runningMean[c] = (float)((1 - momentum) * runningMean[c] + momentum * mean[c]);
    }

    public static void Normalize(Index1D i, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invStd, ArrayView<float> gamma,
        ArrayView<float> beta, ArrayView<float> y, NormArgs a)
    {
        int c = (int)(i % a.Channels), s = S(a, c);
        y[i] = gamma[s] * ((x[i] - mean[c]) * invStd[s]) + beta[c];
    }

    /// <summary>Σ dy and Σ dy · x̂ per channel, in row order, in double.</summary>
    public static void BackwardSums(Index1D c, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> mean, ArrayView<float> invStd,
        ArrayView<double> sumDy, ArrayView<double> sumDyXhat, NormArgs a)
    {
        int s = S(a, c);
        double sd = 0, sdx = 0;
        for (int r = 0; r < a.Rows; r++)
        {
            long o = (long)r * a.Channels + c;
            float xhat = (x[o] - mean[c]) * invStd[s];
            sd += dy[o];
            sdx += (double)dy[o] * xhat;
        }
        sumDy[c] = sd;
        sumDyXhat[c] = sdx;
    }

    /// <summary>The parameter gradients and the two per-channel terms of dx.</summary>
    public static void BackwardFinish(Index1D c, ArrayView<double> sumDy, ArrayView<double> sumDyXhat, ArrayView<float> dGamma,
        ArrayView<float> dBeta, ArrayView<float> meanDy, ArrayView<float> coef, NormArgs a)
    {
        dBeta[c] = (float)sumDy[c];
        if (a.Shared != 0)
        {
            double total = 0;
            for (int k = 0; k < a.Channels; k++) total += sumDyXhat[k];
            if (c == 0) dGamma[0] = (float)total;
            coef[c] = (float)(total / ((double)a.Rows * a.Channels));
        }
        else
        {
            dGamma[c] = (float)sumDyXhat[c];
            coef[c] = (float)(sumDyXhat[c] / a.Rows);
        }
        meanDy[c] = (float)(sumDy[c] / a.Rows);
    }

    public static void BackwardDx(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> mean, ArrayView<float> invStd,
        ArrayView<float> gamma, ArrayView<float> meanDy, ArrayView<float> coef, ArrayView<float> dx, NormArgs a)
    {
        int c = (int)(i % a.Channels), s = S(a, c);
        float xhat = (x[i] - mean[c]) * invStd[s];
        dx[i] = gamma[s] * invStd[s] * (dy[i] - meanDy[c] - xhat * coef[c]);
    }

    // ---- shift-based (Algorithm 3) ----

    /// <summary>μ (float) and the approximate variance mean(C · AP2(C)) per channel.</summary>
    public static void ShiftStatistics(Index1D c, ArrayView<float> x, ArrayView<float> mean, ArrayView<double> variance, NormArgs a)
    {
        double sum = 0;
        for (int r = 0; r < a.Rows; r++) sum += x[(long)r * a.Channels + c];
        float m = (float)(sum / a.Rows);
        double sq = 0;
        for (int r = 0; r < a.Rows; r++) sq += ShiftRules.VarianceTerm(x[(long)r * a.Channels + c] - m);
        mean[c] = m;
        variance[c] = sq / a.Rows;
    }

    /// <summary>The shifts s and AP2(γ), and the running statistics (as <see cref="CpuLowPrecision.FinishStatistics"/>).</summary>
    public static void ShiftFinish(Index1D s, ArrayView<double> variance, ArrayView<float> mean, ArrayView<float> gamma, ArrayView<float> invStd,
        ArrayView<float> gammaPow2, ArrayView<float> runningMean, ArrayView<float> runningVar, NormArgs a)
    {
        double v = variance[s];
        if (a.Shared != 0)
        {
            double shared = 0;
            for (int c = 0; c < a.Channels; c++) shared += variance[c];
            v = shared / a.Channels;
        }
        invStd[s] = ShiftRules.InverseStd(v, a.Epsilon);
        gammaPow2[s] = PowerOfTwo.Approximate(gamma[s]);
        runningVar[s] = ShiftRules.Running(runningVar[s], v * a.Unbiased, a.Momentum);
        if (s == 0)
            for (int c = 0; c < a.Channels; c++) runningMean[c] = ShiftRules.Running(runningMean[c], mean[c], a.Momentum);
    }

    public static void ShiftNormalize(Index1D i, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invStd, ArrayView<float> gammaPow2,
        ArrayView<float> beta, ArrayView<float> y, NormArgs a)
    {
        int c = (int)(i % a.Channels), s = S(a, c);
        y[i] = ShiftRules.Normalize(x[i], mean[c], invStd[s], gammaPow2[s], beta[c]);
    }
}
