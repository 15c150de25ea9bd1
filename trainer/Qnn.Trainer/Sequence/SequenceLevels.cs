using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.Sequence;

/// <summary>
/// The level functions of a quantized recurrent layer (format/SPEC.md 1.10), one definition that the training graph,
/// the export's threshold search (<see cref="Export.SequenceFold"/>) and the tests call, so every threshold reproduces
/// the graph's level for every integer. Each is a float32 function of an integer and non-decreasing in it (the
/// gates' per-channel scale may be negative: then the export flips the channel).
/// </summary>
/// <remarks>
/// Units: an activation or embedding entry is its odd level v (value v / L), a gate its level q (value q / G), a cell
/// its odd level c (value c / L, |c| ≤ S); products of a gate and a value are integers in units of 1 / (G · L).
/// </remarks>
public static class SequenceLevels
{
    /// <summary>The logistic function in float32 (one expression, so the graph and the fold agree bit for bit).</summary>
    public static float Sigmoid(float z) => 1f / (1f + MathF.Exp(-z));

    /// <summary>The pre-activation of a gate channel: fma(acc, scale, bias) in float32 (acc an exact integer).</summary>
    public static float PreActivation(float acc, float scale, float bias) => MathF.FusedMultiplyAdd(acc, scale, bias);

    /// <summary>The unsigned gate level q ∈ {0 … G} of a sigmoid output σ ∈ [0, 1]: round(σ · G), ties up.</summary>
    public static int GateLevel(float sigmoid, int gateBits)
    {
        int g = Levels.Max(gateBits);
        float q = MathF.Floor(sigmoid * g + 0.5f);
        return !(q > 0f) ? 0 : q >= g ? g : (int)q;
    }

    /// <summary>The level of gate i, f, o (LSTM) or r, z (GRU) of one channel as a function of its accumulator.</summary>
    public static int Gate(long acc, float scale, float bias, int gateBits) =>
        GateLevel(Sigmoid(PreActivation(acc, scale, bias)), gateBits);

    /// <summary>The level q (odd value 2q − L) of the LSTM's g or the GRU's n channel: Q_L(tanh(fma(acc, scale, bias))).</summary>
    public static int Candidate(long acc, float scale, float bias, int actBits) =>
        Levels.Index(MathF.Tanh(PreActivation(acc, scale, bias)), actBits);

    /// <summary>
    /// The new cell level q_c ∈ {0 … S} (odd value 2q_c − S) of P_c = q_f·c_prev + q_i·v_g: the odd integer nearest to
    /// P_c / G (ties up), clipped to ±S.
    /// </summary>
    public static int Cell(long pc, int gateBits, int cellBits)
    {
        int s = Levels.Max(cellBits);
        float x = (float)pc / Levels.Max(gateBits);
        float q = MathF.Floor((x + s + 1) * 0.5f);
        return !(q > 0f) ? 0 : q >= s ? s : (int)q;
    }

    /// <summary>The level of tanh of the cell value c / L (c the cell's odd value).</summary>
    public static int TanhOfCell(long c, int actBits) => Levels.Index(MathF.Tanh((float)c / Levels.Max(actBits)), actBits);

    /// <summary>The output level of P_h (o·tanh(c), or the GRU's (1−z)·n + z·h, in units of 1 / (G·L)): Q_L(P_h / (G·L)).</summary>
    public static int Hidden(long ph, int gateBits, int actBits) =>
        Levels.Index((float)ph / (Levels.Max(gateBits) * Levels.Max(actBits)), actBits);

    /// <summary>The integer offset of the output layer's class c: round(bias / scale), kept within ±2^23 (so acc + offset is exact in float32).</summary>
    public static float ScoreOffset(float bias, float scale)
    {
        float o = MathF.Round(bias / scale);
        const float limit = 1 << 23;
        return float.IsNaN(o) ? 0f : o > limit ? limit : o < -limit ? -limit : o;
    }
}
