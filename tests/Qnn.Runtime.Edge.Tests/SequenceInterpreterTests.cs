using Qnn.Format;
using Qnn.TestSupport;

namespace Qnn.Runtime.Edge.Tests;

/// <summary>
/// The sequence interpreter against SPEC 1.10 worked by hand: a 2-unit LSTM and a 2-unit GRU over 2 tokens, every
/// gate, cell and output level derived in the comments. Then its contract: reset empties the state, a step allocates
/// nothing, the memory plan counts what it holds.
/// </summary>
public class SequenceInterpreterTests
{
    // The shared parts, all 1-bit (k = m = g = 1, so L = G = 1): V = 2 tokens, E = 2 channels.
    // Embedding rows: token 0 = 0b01 (channel 0 = +1, channel 1 = −1), token 1 = 0b10 (−1, +1).
    // Dense scores over h (±1 as bit 1/0): class 0 weights 0b11 (+1, +1): h0 + h1; class 1 weights 0b01 (+1, −1): h0 − h1.
    // So h = (1, 1) gives (2, 0), h = (1, 0) gives (0, 2), h = (0, 1) gives (0, −2), h = (0, 0) gives (−2, 0).
    private static QnnModel Model(LayerSpec recurrent)
    {
        var embedding = LayerFactory.Embedding(2, 2, 1);
        embedding.Weights = [0b01, 0b10];
        var dense = LayerFactory.Dense(1, 1, 2, 2, 1, 1, true, OutputKind.Scores, 0);
        dense.Weights = [0b11, 0b01];
        dense.Offsets = [0, 0];
        dense.Shifts = [0, 0];
        var model = new QnnModel
        {
            InputHeight = 1, InputWidth = 1, InputChannels = 2, InputBits = 1, ClassCount = 2,
            Layers = [embedding, recurrent, dense],
        };
        return ModelFile.Parse(ModelWriter.Write(model), "hand.qnn");   // through the bytes: the reader's view
    }

    private static int[] Step(SequenceInterpreter s, int token)
    {
        var scores = new int[2];
        s.Step(token, scores);
        return scores;
    }

    [Fact]
    public void A_two_unit_LSTM_gives_the_levels_worked_out_from_the_spec()
    {
        // s = 2 (S = 3). Channels gate-major: i0 i1 f0 f1 g0 g1 o0 o1. W: every filter 0b01 but f's 0b10; U: 0b11 all.
        // So acc_x = +2 for token 0 and −2 for token 1 on i, g, o (the reverse on f); acc_h = h0 + h1 (as ±1).
        // Gate thresholds: i ≥ 0; f ≥ 1; g ≥ 0 (v_g = 2q − 1); o0 ≥ −10 (always 1); o1 flipped: q = z ≤ 0.
        // Cell thresholds −2, 0, 2 (c = 2q_c − 3); tanh threshold 0; hidden threshold 1.
        var lstm = LayerFactory.Lstm(2, 2, 1, 1, 1, 2);
        lstm.Weights = [1, 1, 2, 2, 1, 1, 1, 1, /* U */ 3, 3, 3, 3, 3, 3, 3, 3];
        lstm.Thresholds = [0, 0, 1, 1, 0, 0, -10, 0];
        lstm.Flip = [1u << 7];
        lstm.StateThresholds = [-2, 0, 2, /* tanh */ 0, /* hidden */ 1];
        var s = new SequenceInterpreter(Model(lstm));

        // Step 1, token 0, empty state: acc_h = 0; z = 2 on i, g, o, −2 on f. q_i = 1, q_f = 0, q_g = 1 (v_g = 1).
        // P_c = prod(0, 0) + prod(1, 1) = 1 → q_c = 2 (1 ≥ −2, 1 ≥ 0) → c = 1; tanh: 1 ≥ 0 → v_t = 1.
        // Unit 0: q_o = 1, P_h = 1 ≥ 1 → h0 = 1. Unit 1: o flipped, 2 ≤ 0 is false → q_o = 0, P_h = 0 → h1 = 0.
        Assert.Equal([0, 2], Step(s, 0));
        Assert.Equal((1, 0, 1, 1), (s.HiddenLevel(1, 0), s.HiddenLevel(1, 1), s.CellValue(1, 0), s.CellValue(1, 1)));

        // Step 2, token 1: h = (+1, −1) → acc_h = 0; z = −2 on i, g, o, +2 on f. q_i = 0, q_f = 1, q_g = 0.
        // P_c = prod(1, c = 1) + prod(0, −1) = 1 → c = 1; v_t = 1. Unit 0: q_o = 1 → h0 = 1. Unit 1: −2 ≤ 0 → q_o = 1 → h1 = 1.
        Assert.Equal([2, 0], Step(s, 1));

        // Step 3, token 1: h = (+1, +1) → acc_h = 2; z = 0 on i, g, o, 4 on f: q_i = q_f = q_g = 1 (v_g = 1).
        // P_c = prod(1, 1) + prod(1, 1) = 2 → q_c = 3 → c = 3 (the previous cell counted). Unit 1: 0 ≤ 0 → q_o = 1. h = (1, 1).
        Assert.Equal([2, 0], Step(s, 1));
        Assert.Equal((3, 3), (s.CellValue(1, 0), s.CellValue(1, 1)));

        // Step 4, token 0: acc_h = 2; z = 4 on i, g, o, 0 on f: q_f = 0 (forget), q_i = q_g = 1: P_c = 0 + 1 → c = 1.
        // Unit 0: h0 = 1. Unit 1: 4 ≤ 0 is false → q_o = 0 → P_h = 0 → h1 = 0.
        Assert.Equal([0, 2], Step(s, 0));
        Assert.Equal((1, 1), (s.CellValue(1, 0), s.CellValue(1, 1)));

        // A new sequence starts empty: step 1 again.
        s.Reset();
        Assert.Equal([0, 2], Step(s, 0));
    }

    [Fact]
    public void A_two_unit_GRU_gives_the_levels_worked_out_from_the_spec()
    {
        // Channels: r0 r1 z0 z1 n0 n1. W: 0b01 all (acc_x = +2 for token 0, −2 for token 1); U: 0b11 all (acc_h = h0 + h1).
        // Gate thresholds: r ≥ 0; z ≥ 1; n0 ≥ 0; n1 flipped: q = N ≤ 0. Hidden threshold 1. With g = 1 (G = 1):
        // N = (acc_x << 1) − acc_x + prod(q_r, acc_h) = acc_x + q_r·acc_h; P_h = prod(1 − q_z, v_n) + prod(q_z, v_hprev).
        var gru = LayerFactory.Gru(2, 2, 1, 1, 1);
        gru.Weights = [1, 1, 1, 1, 1, 1, /* U */ 3, 3, 3, 3, 3, 3];
        gru.Thresholds = [0, 0, 1, 1, 0, 0];
        gru.Flip = [1u << 5];
        gru.StateThresholds = [1];
        var s = new SequenceInterpreter(Model(gru));

        // Step 1, token 0, empty: acc_h = 0, v_hprev = 0. z = 2: q_r = 1, q_z = 1. N = 2: n0 → 1 (v = 1), n1: 2 ≤ 0 false → v = −1.
        // P_h = prod(0, ±1) + prod(1, 0) = 0 < 1 → h = (0, 0).
        Assert.Equal([-2, 0], Step(s, 0));

        // Step 2, token 1: h = (−1, −1) → acc_h = −2; z = −4: q_r = 0, q_z = 0. N = −2 + prod(0, −2) = −2:
        // n0 → 0 (v = −1), n1: −2 ≤ 0 → 1 (v = +1). P_h = prod(1, v_n) + prod(0, −1) = v_n → h = (0, 1).
        Assert.Equal([0, -2], Step(s, 1));

        // Step 3, token 0: h = (−1, +1) → acc_h = 0; z = 2: q_r = 1, q_z = 1. N = 2 + prod(1, 0) = 2: v_n = (+1, −1).
        // P_h = prod(0, v_n) + prod(1, v_hprev) = v_hprev = (−1, +1) → h = (0, 1): unit 1 keeps its previous level.
        Assert.Equal([0, -2], Step(s, 0));
        Assert.Equal((0, 1), (s.HiddenLevel(1, 0), s.HiddenLevel(1, 1)));

        s.Reset();
        Assert.Equal([-2, 0], Step(s, 0));
    }

    [Fact]
    public void A_step_allocates_nothing_and_reset_repeats_a_sequence()
    {
        var rng = new Random(3);
        var model = RandomLayers.SequenceModel(rng, 50, 40, [LayerKind.Lstm, LayerKind.Gru], 37, 2, 2, 3, 2);
        var s = new SequenceInterpreter(model);
        var tokens = Enumerable.Range(0, 12).Select(_ => rng.Next(50)).ToArray();
        var scores = new int[50];
        var first = tokens.Select(t => { s.Step(t, scores); return (int[])scores.Clone(); }).ToArray();
        s.Reset();
        Assert.Equal(0, Allocations.Least(() => s.Step(tokens[0], scores)));
        s.Reset();
        for (int i = 0; i < tokens.Length; i++)
        {
            s.Step(tokens[i], scores);
            Assert.Equal(first[i], scores);
        }
        Assert.Throws<ArgumentException>(() => s.Step(50, scores));
        Assert.Throws<ArgumentException>(() => new Interpreter(model));
    }

    [Fact]
    public void The_memory_plan_counts_weights_state_and_step_buffers()
    {
        var model = RandomLayers.SequenceModel(new Random(4), 100, 40, [LayerKind.Lstm, LayerKind.Gru], 70, 2, 3, 2, 2);
        var plan = new SequenceInterpreter(model).Plan;
        Assert.Equal(model.Layers.Sum(l => l.DataBytes), plan.WeightBytes);
        // h of both layers (3 planes of 3 words) and the LSTM's 70 cells.
        Assert.Equal(4 * (9 + 9 + 70), plan.StateBytes);
        // acc_x and acc_h of the LSTM's 280 gate channels.
        Assert.Equal(8 * 280, plan.ScratchBytes);
        // The embedded token (3 planes of 2 words), each layer's new h (9 words each), the Dense input (9) and scores (100).
        Assert.Equal(4 * (6 + 9 + 9 + 9 + 100), plan.ActivationBytes);
        Assert.Equal(plan.WeightBytes + plan.StateBytes + plan.ScratchBytes + plan.ActivationBytes, plan.TotalBytes);
        long allocated = Allocations.Least(() => new SequenceInterpreter(model), attempts: 3);
        Assert.InRange(allocated, plan.TotalBytes - plan.WeightBytes, plan.TotalBytes - plan.WeightBytes + 6000);
    }
}
