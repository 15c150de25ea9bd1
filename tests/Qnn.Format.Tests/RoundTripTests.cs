using System.Text;
using CsCheck;
using Qnn.TestSupport;

namespace Qnn.Format.Tests;

public class RoundTripTests
{
    [Fact]
    public void Random_models_of_every_layer_kind_survive_write_then_read()
    {
        Gen.Int.Sample(seed =>
        {
            var model = RandomModels.Create(new Random(seed));
            byte[] bytes = ModelWriter.Write(model);
            var back = ModelFile.Parse(bytes, "random.qnn");
            Assert.Equal(model.ModelId, back.ModelId);
            AssertSameModel(model, back);
            Assert.Equal(bytes, ModelWriter.Write(back));
        }, iter: 300);
    }

    [Fact]
    public void Every_layer_kind_and_bit_width_from_1_to_8_occurs_in_the_round_trips()
    {
        var seen = new HashSet<string>();
        var wide = new RandomModels.Limits(MaxSide: 8, MaxChannels: 40, MaxDense: 40, MaxLayers: 5, MaxBits: 8);
        for (int seed = 0; seed < 400; seed++)
        {
            var model = RandomModels.Create(new Random(seed), wide);
            var back = ModelFile.Parse(ModelWriter.Write(model), "random.qnn");
            AssertSameModel(model, back);
            seen.Add("input bits " + back.InputBits);
            foreach (var l in back.Layers)
            {
                seen.Add(l.Kind + (l.PoolH > 0 && l.Kind == LayerKind.Conv2D ? " with pool" : ""));
                seen.Add(l.Output.ToString());
                if (l.WeightBits > 0) seen.Add("weight bits " + l.WeightBits);
                if (l.OutputBits > 0) seen.Add("output bits " + l.OutputBits);
            }
        }
        var expected = new[] { "Dense", "Conv2D", "Conv2D with pool", "MaxPool2D", "Thresholds", "Scores", "PooledActivations" }
            .Concat(Enumerable.Range(1, 8).SelectMany(b => new[] { "input bits " + b, "weight bits " + b, "output bits " + b }));
        Assert.Empty(expected.Except(seen));
    }

    [Fact]
    public void Unicode_labels_and_metadata_survive_and_do_not_change_the_model_id()
    {
        var text = Gen.Char.Array[0, 20].Select(c => new string(c))
            .Where(s => !s.Any(char.IsSurrogate) && Encoding.UTF8.GetByteCount(s) <= FormatConstants.MaxLabelBytes);
        Gen.Select(Gen.Int, text.Array[new RandomModels.Limits().MaxClasses], text.Array[0, 8]).Sample((seed, pool, meta) =>
        {
            var model = RandomModels.Create(new Random(seed));
            model.Labels = null;
            model.MetadataKeys = model.MetadataValues = [];
            ModelWriter.Write(model);
            ulong id = model.ModelId;
            model.Labels = pool[..model.ClassCount];
            model.MetadataKeys = meta.Select((_, i) => "key " + i).ToArray();
            model.MetadataValues = meta;
            var back = ModelFile.Parse(ModelWriter.Write(model), "unicode.qnn");
            Assert.Equal(model.Labels, back.Labels);
            Assert.Equal(meta, back.MetadataValues);
            Assert.Equal(id, back.ModelId);
        }, iter: 200);
    }

    [Fact]
    public void A_streaming_read_then_loading_each_layer_gives_the_same_model()
    {
        Gen.Int.Sample(seed =>
        {
            var model = RandomModels.Create(new Random(seed));
            byte[] bytes = ModelWriter.Write(model);
            var source = new ArraySource(bytes);
            var streamed = ModelReader.Read(source, loadLayers: false);
            Assert.All(streamed.Layers, l => Assert.Null(l.Weights));
            for (int i = 0; i < streamed.Layers.Length; i++) ModelReader.LoadLayer(source, streamed, i);
            AssertSameModel(model, streamed);
        }, iter: 100);
    }

    /// <summary>Field by field, so that a failure says which field the reader lost.</summary>
    private static void AssertSameModel(QnnModel a, QnnModel b)
    {
        Assert.Equal((a.InputHeight, a.InputWidth, a.InputChannels, a.InputBits, a.PreprocessFlags, a.ClassCount),
                     (b.InputHeight, b.InputWidth, b.InputChannels, b.InputBits, b.PreprocessFlags, b.ClassCount));
        Assert.Equal(a.Labels, b.Labels);
        Assert.Equal(a.MetadataKeys, b.MetadataKeys);
        Assert.Equal(a.MetadataValues, b.MetadataValues);
        Assert.Equal(a.Layers.Length, b.Layers.Length);
        for (int i = 0; i < a.Layers.Length; i++)
        {
            LayerSpec x = a.Layers[i], y = b.Layers[i];
            Assert.Equal((x.Kind, x.WeightBits, x.InputBits, x.InputSigned, x.Output, x.OutputBits), (y.Kind, y.WeightBits, y.InputBits, y.InputSigned, y.Output, y.OutputBits));
            Assert.Equal((x.InH, x.InW, x.InC, x.OutH, x.OutW, x.OutC), (y.InH, y.InW, y.InC, y.OutH, y.OutW, y.OutC));
            Assert.Equal((x.KernelH, x.KernelW, x.StrideH, x.StrideW, x.PadTop, x.PadLeft, x.PadBottom, x.PadRight),
                         (y.KernelH, y.KernelW, y.StrideH, y.StrideW, y.PadTop, y.PadLeft, y.PadBottom, y.PadRight));
            Assert.Equal((x.PoolH, x.PoolW, x.PoolStrideH, x.PoolStrideW), (y.PoolH, y.PoolW, y.PoolStrideH, y.PoolStrideW));
            Assert.Equal(x.Weights, y.Weights);
            Assert.Equal(x.Thresholds, y.Thresholds);
            Assert.Equal(x.Flip, y.Flip);
            Assert.Equal(x.Offsets, y.Offsets);
            Assert.Equal(x.Shifts, y.Shifts);
        }
    }
}
