using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;
using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.Sequence;

/// <summary>The recurrent cell of a layer: gates i, f, g, o (LSTM) or r, z, n (GRU), gate-major (SPEC 1.10).</summary>
public enum RecurrentCell { Lstm, Gru }

/// <summary>
/// The bit widths of a language model: m-bit weights, k-bit activations (the embedding's entries and every recurrent
/// layer's input and output), g-bit gates, s-bit LSTM cells; <see cref="Float"/> (32) trains the same graph unquantized.
/// </summary>
public sealed record SequenceBits(int Weight, int Act, int Gate, int Cell)
{
    public bool Float => Weight >= 32;
    /// <summary>The scales of the integer units: L = 2^k − 1 (1 in float), likewise M, G; S the cell's largest level.</summary>
    public float L => Float ? 1f : Levels.Max(Act);
    public float M => Float ? 1f : Levels.Max(Weight);
    public float G => Float ? 1f : Levels.Max(Gate);
    public float S => Float ? float.PositiveInfinity : Levels.Max(Cell);
}

/// <summary>
/// A quantized LSTM or GRU layer over a segment of T steps of B sequences (time-major rows t·B + b), with the state
/// carried from one segment to the next. The input part of every gate accumulator is one GEMM over the whole segment,
/// the recurrent part one GEMM per step; with integer levels both are exact integers in float32, so the accumulator is
/// SPEC 1.10's acc_x + acc_h. Each channel's pre-activation is fma(acc, scale, bias) with a learned per-channel scale
/// and bias, then the level functions of <see cref="SequenceLevels"/>; the backward pass is the straight-through
/// estimator of each quantizer (identity, cancelled outside the cell's range), the latent weights clipped to [−1, 1].
/// </summary>
public sealed class RecurrentLayer
{
    private readonly SequenceBits bits;
    private readonly int gates;
    private float[] wq = [], uq = [];
    // Caches of one segment (rows T·B), grown as needed.
    private float[] x = [], accX = [], accH = [], hPrev = [], act = [], q = [], h = [], cPrev = [], c = [], pc = [], tc = [], vt = [];
    private float[] dAccX = [], dAccH = [], dx = [];
    private float[] stepAcc = [], stepIn = [], dhRec = [], dcRec = [];
    private int rows, steps, batch;

    public RecurrentLayer(RecurrentCell cell, int inputs, int hidden, SequenceBits bits, int maxBatch, int index, Random rng)
    {
        Cell = cell;
        X = inputs;
        H = hidden;
        this.bits = bits;
        gates = cell == RecurrentCell.Lstm ? 4 : 3;
        F = gates * hidden;
        float clip = bits.Float ? float.PositiveInfinity : 1f;
        W = SequenceParameters.Uniform($"rnn{index}.W", F, inputs, clip, rng);
        U = SequenceParameters.Uniform($"rnn{index}.U", F, hidden, clip, rng);
        var scale = new float[F];
        var bias = new float[F];
        float s = 1f / (bits.M * bits.L * MathF.Sqrt(inputs + hidden));
        Array.Fill(scale, s);
        if (cell == RecurrentCell.Lstm) Array.Fill(bias, 1f, hidden, hidden);     // forget gate open at the start
        Scale = SequenceParameters.Of($"rnn{index}.scale", scale, s);
        Bias = SequenceParameters.Of($"rnn{index}.bias", bias);
        StateH = new CpuTensor([maxBatch, hidden]);
        StateC = new CpuTensor([maxBatch, hidden]);
    }

    public RecurrentCell Cell { get; }
    public int X { get; }
    public int H { get; }
    /// <summary>Gate channels: 4H (LSTM) or 3H (GRU).</summary>
    public int F { get; }
    public Parameter W { get; }
    public Parameter U { get; }
    public Parameter Scale { get; }
    public Parameter Bias { get; }
    /// <summary>The state carried between segments: h (odd levels), and c (the LSTM's cell levels).</summary>
    public CpuTensor StateH { get; }
    public CpuTensor StateC { get; }
    public IEnumerable<Parameter> Parameters => [W, U, Scale, Bias];

    /// <summary>The weights as the forward pass uses them: odd levels of m bits (the latent values in float).</summary>
    public float[] QuantizedW => SequenceParameters.Levels(W, bits, ref wq);
    public float[] QuantizedU => SequenceParameters.Levels(U, bits, ref uq);

    public void ResetState()
    {
        Array.Clear(StateH.Data);
        Array.Clear(StateC.Data);
    }

    private static void Grow(ref float[] a, int n)
    {
        if (a.Length < n) a = new float[n];
    }

    /// <summary>Outputs [T·B × H] of inputs [T·B × X]; the state moves to the segment's end.</summary>
    public float[] Forward(float[] input, int t, int b)
    {
        steps = t;
        batch = b;
        rows = t * b;
        int n = rows * H, nf = rows * F;
        Grow(ref x, rows * X); Grow(ref accX, nf); Grow(ref accH, nf); Grow(ref act, nf); Grow(ref q, nf);
        Grow(ref hPrev, n); Grow(ref h, n); Grow(ref cPrev, n); Grow(ref c, n); Grow(ref pc, n); Grow(ref tc, n); Grow(ref vt, n);
        Grow(ref stepAcc, b * F); Grow(ref stepIn, b * H);
        Array.Copy(input, x, rows * X);
        var w = QuantizedW;
        var u = QuantizedU;
        CpuGemm.Multiply(x, false, w, true, accX, rows, F, X);
        var scale = ((CpuTensor)Scale.Value).Data;
        var bias = ((CpuTensor)Bias.Value).Data;
        for (int s = 0; s < t; s++)
        {
            Array.Copy(StateH.Data, stepIn, b * H);
            Array.Copy(stepIn, 0, hPrev, s * b * H, b * H);
            Array.Copy(StateC.Data, 0, cPrev, s * b * H, b * H);
            CpuGemm.Multiply(stepIn, false, u, true, stepAcc, b, F, H);
            Array.Copy(stepAcc, 0, accH, s * b * F, b * F);
            Parallel.For(0, b, bi => StepForward(s * b + bi, scale, bias));
            Array.Copy(h, s * b * H, StateH.Data, 0, b * H);
            Array.Copy(c, s * b * H, StateC.Data, 0, b * H);
        }
        return h;
    }

    private void StepForward(int row, float[] scale, float[] bias)
    {
        bool quant = !bits.Float;
        float G = bits.G, L = bits.L, S = bits.S;
        int fo = row * F, ho = row * H;
        for (int ch = 0; ch < F; ch++)
        {
            int gate = ch / H;
            bool candidate = gate == 2;     // the LSTM's g, the GRU's n
            if (Cell == RecurrentCell.Gru && candidate) continue;      // the GRU's n needs q_r first
            float z = SequenceLevels.PreActivation(accX[fo + ch] + accH[fo + ch], scale[ch], bias[ch]);
            Activate(fo + ch, z, candidate, quant, G, L);
        }
        for (int u = 0; u < H; u++)
        {
            int r = ho + u;
            if (Cell == RecurrentCell.Lstm)
            {
                float qi = q[fo + u], qf = q[fo + H + u], vg = q[fo + 2 * H + u], qo = q[fo + 3 * H + u];
                float p = qf * cPrev[r] + qi * vg;
                pc[r] = p;
                float cn = quant ? 2 * SequenceLevels.Cell((long)p, bits.Gate, bits.Cell) - S : p;
                c[r] = cn;
                float t = MathF.Tanh(cn / L);
                tc[r] = t;
                float v = quant ? 2 * Levels.Index(t, bits.Act) - L : t;
                vt[r] = v;
                float ph = qo * v;
                h[r] = quant ? 2 * SequenceLevels.Hidden((long)ph, bits.Gate, bits.Act) - L : ph;
            }
            else
            {
                int nch = 2 * H + u;
                float qr = q[fo + u], qz = q[fo + H + u];
                float nacc = G * accX[fo + nch] + qr * accH[fo + nch];
                pc[r] = nacc;     // the GRU keeps N here
                Activate(fo + nch, SequenceLevels.PreActivation(nacc, scale[nch], bias[nch]), true, quant, G, L);
                float vn = q[fo + nch];
                float hp = hPrev[r];
                float ph = (G - qz) * vn + qz * hp;
                h[r] = quant ? 2 * SequenceLevels.Hidden((long)ph, bits.Gate, bits.Act) - L : ph;
            }
        }
    }

    /// <summary>Gate (sigmoid, unsigned level) or candidate (tanh, odd level) of pre-activation z; act keeps the value before quantizing.</summary>
    private void Activate(int i, float z, bool candidate, bool quant, float g, float l)
    {
        if (candidate)
        {
            float t = MathF.Tanh(z);
            act[i] = t;
            q[i] = quant ? 2 * Levels.Index(t, bits.Act) - l : t;
        }
        else
        {
            float s = SequenceLevels.Sigmoid(z);
            act[i] = s;
            q[i] = quant ? SequenceLevels.GateLevel(s, bits.Gate) : s;
        }
    }

    /// <summary>
    /// Gradients of the segment's loss: <paramref name="dh"/> [T·B × H] with respect to the outputs; adds to the
    /// parameters' gradients and returns the gradient of the inputs [T·B × X]. The carried state is a constant
    /// (truncated back-propagation through time).
    /// </summary>
    public float[] Backward(float[] dh)
    {
        int t = steps, b = batch;
        int nf = rows * F;
        Grow(ref dAccX, nf); Grow(ref dAccH, nf); Grow(ref dx, rows * X); Grow(ref dhRec, b * H); Grow(ref dcRec, b * H);
        Array.Clear(dhRec, 0, b * H);
        Array.Clear(dcRec, 0, b * H);
        var scale = ((CpuTensor)Scale.Value).Data;
        var dScale = ((CpuTensor)Scale.Gradient).Data;
        var dBias = ((CpuTensor)Bias.Gradient).Data;
        var dScaleRows = new float[b * F];
        var dBiasRows = new float[b * F];
        var hDirect = new float[b * H];
        for (int s = t - 1; s >= 0; s--)
        {
            int step = s;
            Parallel.For(0, b, bi => StepBackward(step * b + bi, bi, dh, scale, dScaleRows, dBiasRows, hDirect));
            // dh of the previous step: through U (and the GRU's direct z·h term).
            Array.Copy(dAccH, s * b * F, stepAcc, 0, b * F);
            CpuGemm.Multiply(stepAcc, false, uq, false, dhRec, b, H, F);
            if (Cell == RecurrentCell.Gru)
                for (int i = 0; i < b * H; i++) dhRec[i] += hDirect[i];
        }
        for (int ch = 0; ch < F; ch++)
        {
            float ds = 0, db = 0;
            for (int bi = 0; bi < b; bi++)
            {
                ds += dScaleRows[bi * F + ch];
                db += dBiasRows[bi * F + ch];
            }
            dScale[ch] += ds;
            dBias[ch] += db;
        }
        var dw = new float[F * X];
        var du = new float[F * H];
        CpuGemm.Multiply(dAccX, true, x, false, dw, F, X, rows);
        CpuGemm.Multiply(dAccH, true, hPrev, false, du, F, H, rows);
        SequenceParameters.AddLatentGradient(W, dw, bits);
        SequenceParameters.AddLatentGradient(U, du, bits);
        CpuGemm.Multiply(dAccX, false, wq, false, dx, rows, X, F);
        return dx;
    }

    private void StepBackward(int row, int bi, float[] dhOut, float[] scale, float[] dScaleRows, float[] dBiasRows, float[] hDirect)
    {
        bool quant = !bits.Float;
        float G = bits.G, L = bits.L, S = bits.S;
        int fo = row * F, ho = row * H, so = bi * F;
        for (int u = 0; u < H; u++)
        {
            int r = ho + u;
            float dhv = dhOut[r] + dhRec[bi * H + u];
            float dph = quant ? dhv / G : dhv;
            if (Cell == RecurrentCell.Lstm)
            {
                int ci = fo + u, cf = fo + H + u, cg = fo + 2 * H + u, co = fo + 3 * H + u;
                float dqo = dph * vt[r];
                float dvt = dph * q[co];
                float t = tc[r];
                float dc = dvt * (1 - t * t) + dcRec[bi * H + u];
                float dpc = quant ? (MathF.Abs(pc[r] / G) <= S ? dc / G : 0f) : dc;
                float dqf = dpc * cPrev[r];
                dcRec[bi * H + u] = dpc * q[cf];
                float dqi = dpc * q[cg];
                float dvg = dpc * q[ci];
                GateGrad(ci, so + u, dqi, false, quant, G, L, scale, dScaleRows, dBiasRows, accX[ci] + accH[ci]);
                GateGrad(cf, so + H + u, dqf, false, quant, G, L, scale, dScaleRows, dBiasRows, accX[cf] + accH[cf]);
                GateGrad(cg, so + 2 * H + u, dvg, true, quant, G, L, scale, dScaleRows, dBiasRows, accX[cg] + accH[cg]);
                GateGrad(co, so + 3 * H + u, dqo, false, quant, G, L, scale, dScaleRows, dBiasRows, accX[co] + accH[co]);
                for (int k = 0; k < 4; k++) dAccH[fo + k * H + u] = dAccX[fo + k * H + u];
            }
            else
            {
                int cr = fo + u, cz = fo + H + u, cn = fo + 2 * H + u;
                float qz = q[cz], vn = q[cn];
                float dqz = dph * (hPrev[r] - vn);
                float dvn = dph * (G - qz);
                hDirect[bi * H + u] = dph * qz;
                float nacc = pc[r];
                // n: dz = L · dv · (1 − tanh²); N = G·acc_x + q_r·acc_h.
                float tn = act[cn];
                float dzn = (quant ? L : 1f) * dvn * (1 - tn * tn);
                dScaleRows[so + 2 * H + u] += dzn * nacc;
                dBiasRows[so + 2 * H + u] += dzn;
                float dN = dzn * scale[2 * H + u];
                dAccX[cn] = dN * G;
                dAccH[cn] = dN * q[cr];
                float dqr = dN * accH[cn];
                GateGrad(cr, so + u, dqr, false, quant, G, L, scale, dScaleRows, dBiasRows, accX[cr] + accH[cr]);
                GateGrad(cz, so + H + u, dqz, false, quant, G, L, scale, dScaleRows, dBiasRows, accX[cz] + accH[cz]);
                dAccH[cr] = dAccX[cr];
                dAccH[cz] = dAccX[cz];
            }
        }
    }

    /// <summary>From the gradient of a gate's level (or a candidate's odd value) to its accumulator (written to dAccX).</summary>
    private void GateGrad(int i, int si, float dLevel, bool candidate, bool quant, float g, float l, float[] scale,
        float[] dScaleRows, float[] dBiasRows, float acc)
    {
        float a = act[i];
        float dz = candidate ? (quant ? l : 1f) * dLevel * (1 - a * a) : (quant ? g : 1f) * dLevel * a * (1 - a);
        dScaleRows[si] += dz * acc;
        dBiasRows[si] += dz;
        dAccX[i] = dz * scale[i % F];
    }
}
