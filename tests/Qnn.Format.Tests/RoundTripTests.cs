using CsCheck;
using Qnn.Format;
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
            Assert.Equal(bytes, ModelWriter.Write(back));
        }, iter: 300);
    }
}
