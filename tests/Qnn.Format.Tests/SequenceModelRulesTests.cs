using System.Buffers.Binary;

namespace Qnn.Format.Tests;

/// <summary>
/// The rules of SPEC 1.10, 2.3–2.4 ("Sequence layers") and 4 for Embedding, LSTM and GRU layers: random sequence
/// models round-trip; each broken rule is refused with a message that names the layer and the problem.
/// </summary>
public class SequenceModelRulesTests
{
    /// <summary>V = 40 tokens, E = 37, an LSTM of 33 units (s = 3), a GRU of 33; m = 2, k = 2, g = 2.</summary>
    private static QnnModel Valid(int seed = 1) =>
        RandomLayers.SequenceModel(new Random(seed), 40, 37, [LayerKind.Lstm, LayerKind.Gru], 33, 2, 2, 2, 3);

    private static QnnFormatException Refused(QnnModel model) => Assert.Throws<QnnFormatException>(() => ModelValidator.Check(model));

    private static void RefusedSaying(QnnModel model, string message)
    {
        var e = Refused(model);
        Assert.True(e.Message.Contains(message, StringComparison.Ordinal), $"\"{e.Message}\" does not say \"{message}\"");
    }

    [Fact]
    public void Random_sequence_models_of_every_kind_and_bit_width_round_trip()
    {
        var rng = new Random(5);
        for (int i = 0; i < 40; i++)
        {
            LayerKind[] kinds = Enumerable.Range(0, rng.Next(1, 3)).Select(_ => rng.Next(2) == 0 ? LayerKind.Lstm : LayerKind.Gru).ToArray();
            var model = RandomLayers.SequenceModel(rng, rng.Next(2, 70), rng.Next(1, 70), kinds, rng.Next(1, 70),
                rng.Next(1, 5), rng.Next(1, 5), rng.Next(1, 5), rng.Next(1, 5));
            byte[] bytes = ModelWriter.Write(model);
            var back = ModelFile.Parse(bytes, "seq.qnn");
            Assert.Equal(model.ModelId, back.ModelId);
            Assert.Equal(bytes, ModelWriter.Write(back));
            for (int l = 1; l <= kinds.Length; l++)
            {
                Assert.Equal(model.Layers[l].GateBits, back.Layers[l].GateBits);
                Assert.Equal(model.Layers[l].CellBits, back.Layers[l].CellBits);
                Assert.Equal(model.Layers[l].StateThresholds, back.Layers[l].StateThresholds);
                Assert.Equal(model.Layers[l].Thresholds, back.Layers[l].Thresholds);
            }
        }
    }

    [Fact]
    public void Sizes_follow_the_spec()
    {
        var m = Valid();
        LayerSpec e = m.Layers[0], lstm = m.Layers[1], gru = m.Layers[2];
        Assert.Equal(40 * 2 * 2, e.WeightWords);                         // V · k · EW
        Assert.Equal(40 * 2 * 2 * 4, e.DataBytes);
        Assert.Equal(0, e.Macs);
        Assert.Equal(4 * 33, lstm.GateChannels);
        Assert.Equal(132 * 2 * (2 + 2), lstm.WeightWords);              // F · m · (XW + HW)
        Assert.Equal(33 * (3 * 3 + 3), lstm.GateThresholdCount);         // H · (3G + L)
        Assert.Equal(7 + 3 + 3, lstm.StateThresholdCount);               // S + 2L
        Assert.Equal((lstm.WeightWords + lstm.GateThresholdCount + 5 + 13) * 4, lstm.DataBytes);
        Assert.Equal(132L * (37 + 33), lstm.Macs);
        Assert.Equal((37 + 33) * 3 * 3, lstm.AccumulatorBound);
        Assert.Equal(33 * (2 * 3 + 3), gru.GateThresholdCount);          // H · (2G + L)
        Assert.Equal(3, gru.StateThresholdCount);
        Assert.Equal(99L * 66, gru.Macs);
        // Section order of the gate thresholds: i, f (G each), g (L each), o (G each).
        Assert.Equal(0, lstm.GateThresholdStart(0));
        Assert.Equal(66 * 3, lstm.GateThresholdStart(66));
        Assert.Equal(66 * 3 + 5 * 3, lstm.GateThresholdStart(71));
        Assert.Equal(66 * 3 + 33 * 3 + 2 * 3, lstm.GateThresholdStart(101));
    }

    [Fact]
    public void Class_counts_up_to_65535_are_read()
    {
        var model = RandomLayers.SequenceModel(new Random(2), 65535, 3, [], 1, 1, 1, 1, 1);
        Assert.Equal(65535, ModelFile.Parse(ModelWriter.Write(model), "v.qnn").ClassCount);
    }

    public static TheoryData<string, Action<QnnModel>, string> BrokenRecords() => new()
    {
        { "embedding not first", m => { m.Layers[1] = LayerFactory.Embedding(37, 33, 2); m.Layers[1].InputSigned = true; }, "layer 1 (Embedding): an Embedding can only be layer 0" },
        { "LSTM first", m => { m.Layers = [LayerFactory.Lstm(40, 33, 2, 1, 2, 3), .. m.Layers[1..]]; m.Layers[0].InputSigned = false; m.Layers[1].InputBits = 1; }, "layer 0 (LSTM): an LSTM or GRU reads signed levels" },
        { "LSTM after a Dense", m => m.Layers = [m.Layers[0], LayerFactory.Dense(1, 1, 37, 37, 2, 2, true, OutputKind.Thresholds, 2), LayerFactory.Lstm(37, 33, 2, 2, 2, 3), .. m.Layers[2..]], "layer 2 (LSTM): an LSTM or GRU must follow the Embedding or another LSTM/GRU, not Dense" },
        { "conv in a sequence model", m => m.Layers = [m.Layers[0], LayerFactory.Conv2D(1, 1, 37, 37, 1, 1, 1, 0, 2, 2, true, OutputKind.Thresholds, 2), .. m.Layers[1..]], "layer 1 (Conv2D): a sequence model has only Dense layers" },
        { "kernel not 1x1", m => m.Layers[1].KernelH = 2, "layer 1 (LSTM): a sequence layer has a 1x1 kernel" },
        { "shape not 1x1", m => m.Layers[1].OutH = 2, "layer 1 (LSTM): a sequence layer has a 1x1 input and output" },
        { "fused pool", m => m.Layers[2].PoolH = 1, "layer 2 (GRU): a sequence layer has no fused pool" },
        { "LSTM output kind 1", m => m.Layers[1].Output = OutputKind.Thresholds, "layer 1 (LSTM): a sequence layer outputs levels (output kind 4), not output kind 1" },
        { "Dense output kind 4", m => m.Layers[3].Output = OutputKind.Levels, "layer 3 (Dense): output kind 4 is only for Embedding, LSTM and GRU layers" },
        { "embedding input bits", m => { m.InputBits = 2; m.Layers[0].InputBits = 2; }, "layer 0 (Embedding): an Embedding reads a one-hot token (input bits 1)" },
        { "embedding weight bits", m => m.Layers[0].WeightBits = 3, "layer 0 (Embedding): an Embedding's weight bits 3 differ from its output bits 2" },
        { "embedding gate bits", m => m.Layers[0].GateBits = 1, "layer 0 (Embedding): an Embedding has gate bits and cell bits 0" },
        { "Dense gate bits", m => m.Layers[3].GateBits = 1, "layer 3 (Dense): only an LSTM or GRU has gate bits" },
        { "k differs", m => { m.Layers[2].OutputBits = 3; m.Layers[3].InputBits = 3; }, "layer 2 (GRU): output bits 3 differ from input bits 2" },
        { "gate bits 0", m => m.Layers[1].GateBits = 0, "layer 1 (LSTM): gate bits 0 is outside 1-8" },
        { "LSTM cell bits 0", m => m.Layers[1].CellBits = 0, "layer 1 (LSTM): cell bits 0 is outside 1-8" },
        { "GRU cell bits", m => m.Layers[2].CellBits = 2, "layer 2 (GRU): a GRU has cell bits 0, not 2" },
        { "gate bound", m =>
            {   // (X + H)·255·255 ≥ 2^30 for X + H ≥ 16513
                m.Layers[0].OutC = 16000; m.Layers[0].OutputBits = m.Layers[0].WeightBits = 8;
                var l = LayerFactory.Lstm(16000, 600, 8, 8, 1, 1); m.Layers[1] = l;
                m.Layers[2] = LayerFactory.Gru(600, 33, 2, 8, 2); m.Layers[3].InputBits = 8;
            }, "layer 1 (LSTM): gate bound (X+H)*(2^m-1)*(2^k-1) reaches 2^30" },
        { "GRU candidate bound", m =>
            {   // (37 + 33)·255·3 = 53550 < 2^30, but << 8 of the gate bits... needs more: X = 6000
                m.Layers[0].OutC = 6000; m.Layers[1] = LayerFactory.Gru(6000, 33, 8, 2, 8);
                m.Layers[2] = LayerFactory.Gru(33, 33, 2, 2, 2);
            }, "layer 1 (GRU): candidate bound (gate bound << g) reaches 2^30" },
        { "weight words", m => { foreach (var l in m.Layers) l.DeclaredWeightWords = l.WeightWords; m.Layers[2].DeclaredWeightWords++; }, "layer 2 (GRU): record declares" },
        { "MACs per step", m =>
            {   // 17 LSTMs of 4096 units over 4096 inputs: 2^27 MACs per step each
                m.Layers[0].OutC = 4096;
                m.Layers = [m.Layers[0], .. Enumerable.Range(0, 17).Select(_ => LayerFactory.Lstm(4096, 4096, 1, 2, 1, 1)), LayerFactory.Dense(1, 1, 4096, 40, 1, 2, true, OutputKind.Scores, 0)];
            }, "layer 16 (LSTM): the model needs 2147483648 MACs per step up to this layer, over the limit of 2^31" },
    };

    [Theory]
    [MemberData(nameof(BrokenRecords))]
    public void A_broken_record_rule_is_refused_by_name(string what, Action<QnnModel> breakIt, string message)
    {
        var model = Valid();
        foreach (var l in model.Layers) l.DeclaredWeightWords = l.WeightWords;
        breakIt(model);
        foreach (var l in model.Layers) if (what != "weight words") l.DeclaredWeightWords = l.WeightWords;
        RefusedSaying(model, message);
    }

    [Fact]
    public void The_reader_refuses_gate_bits_on_a_dense_layer_and_nonzero_reserved_bytes()
    {
        byte[] good = ModelWriter.Write(Valid());
        var f = QnnFile.Parse(good);
        f.Section(FormatConstants.SectionModel)[16 + 64 * 3 + 36] = 2;
        var e = Assert.Throws<QnnFormatException>(() => ModelFile.Parse(f.Build(), "seq.qnn"));
        Assert.Equal("seq.qnn: layer 3 (Dense): only an LSTM or GRU has gate bits, only an LSTM cell bits (must be 0)", e.Message);
        f = QnnFile.Parse(good);
        f.Section(FormatConstants.SectionModel)[16 + 64 * 1 + 40] = 1;
        e = Assert.Throws<QnnFormatException>(() => ModelFile.Parse(f.Build(), "seq.qnn"));
        Assert.Equal("seq.qnn: layer 1: reserved record byte 40 is 1, not 0", e.Message);
    }

    /// <summary>Byte offsets (in the LSTM's section, layer 1) of its parts: W, U, gate thresholds, flips, state thresholds.</summary>
    public static TheoryData<string, int, Action<QnnModel, byte[]>, string> BrokenData()
    {
        static void I32(byte[] b, int at, int v) => BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(at), v);
        static int Gates(LayerSpec l) => l.WeightWords * 4;
        static int Flips(LayerSpec l) => Gates(l) + l.GateThresholdCount * 4;
        static int State(LayerSpec l) => Flips(l) + l.GateFlipWords * 4;
        return new()
        {
            { "embedding row padding", 0, (m, b) => b[4 * 1 + 3] |= 0x80, "layer 0: weight word 1 has bits set past channel 37" },
            { "W padding", 1, (m, b) => b[4 * 1 + 3] |= 0x80, "layer 1: weight word 1 has bits set past channel 37" },
            { "U padding", 1, (m, b) => b[m.Layers[1].InputWeightWords * 4 + 4 * 1 + 3] |= 0x80, $"has bits set past channel 33" },
            { "gate thresholds not ascending", 1, (m, b) =>
                {
                    var l = m.Layers[1];
                    int c = Enumerable.Range(0, l.GateChannels).First(c => !l.IsFlipped(c));
                    I32(b, Gates(l) + 4 * l.GateThresholdStart(c), int.MaxValue);
                    if (l.Thresholds![l.GateThresholdStart(c) + 1] == int.MaxValue) I32(b, Gates(l) + 4 * l.GateThresholdStart(c) + 4, int.MinValue);
                }, "layer 1 (LSTM): thresholds of gate channel" },
            { "flipped gate thresholds not descending", 1, (m, b) =>
                {
                    var l = m.Layers[1];
                    int c = Enumerable.Range(0, l.GateChannels).First(l.IsFlipped);
                    I32(b, Gates(l) + 4 * l.GateThresholdStart(c), int.MinValue);
                    if (l.Thresholds![l.GateThresholdStart(c) + 1] == int.MinValue) I32(b, Gates(l) + 4 * l.GateThresholdStart(c) + 4, int.MaxValue);
                }, "are not descending" },
            { "flip bit past F", 1, (m, b) => b[Flips(m.Layers[1]) + 4 * 4 + 3] |= 0x80, "layer 1 (LSTM): flip bits set past gate channel 132" },
            { "cell thresholds", 1, (m, b) => { I32(b, State(m.Layers[1]), int.MaxValue); }, "layer 1 (LSTM): cell thresholds are not ascending" },
            { "tanh thresholds", 1, (m, b) => { I32(b, State(m.Layers[1]) + 7 * 4, int.MaxValue); }, "layer 1 (LSTM): tanh thresholds are not ascending" },
            { "LSTM hidden thresholds", 1, (m, b) => { I32(b, State(m.Layers[1]) + 10 * 4, int.MaxValue); }, "layer 1 (LSTM): hidden thresholds are not ascending" },
            { "GRU hidden thresholds", 2, (m, b) => { I32(b, State(m.Layers[2]), int.MaxValue); }, "layer 2 (GRU): hidden thresholds are not ascending" },
            { "section length", 2, (m, b) => { }, "layer 2: LAYER section has" },
        };
    }

    [Theory]
    [MemberData(nameof(BrokenData))]
    public void A_broken_section_is_refused_by_name(string what, int layer, Action<QnnModel, byte[]> breakIt, string message)
    {
        var model = Valid();
        var f = QnnFile.Parse(ModelWriter.Write(model));
        var section = f.Sections[1 + layer].Bytes;
        breakIt(model, section);
        if (what == "section length") f.Sections[1 + layer] = (FormatConstants.SectionLayer, section[..^4]);
        var e = Assert.Throws<QnnFormatException>(() => ModelFile.Parse(f.Build(), "seq.qnn"));
        Assert.True(e.Message.Contains(message, StringComparison.Ordinal), $"{what}: \"{e.Message}\" does not say \"{message}\"");
    }

    [Fact]
    public void The_writer_refuses_what_the_reader_refuses()
    {
        var model = Valid();
        model.Layers[2].StateThresholds![0] = int.MaxValue;
        var e = Assert.Throws<QnnFormatException>(() => ModelWriter.Write(model));
        Assert.Equal("layer 2 (GRU): hidden thresholds are not ascending", e.Message);
        model = Valid();
        model.Layers[1].StateThresholds = new int[3];
        e = Assert.Throws<QnnFormatException>(() => ModelWriter.Write(model));
        Assert.StartsWith("layer 1 (LSTM): threshold arrays do not match 132 gate channels", e.Message);
    }
}
