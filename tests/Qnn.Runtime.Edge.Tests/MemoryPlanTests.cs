using CsCheck;
using Qnn.Format;
using Qnn.TestSupport;

namespace Qnn.Runtime.Edge.Tests;

public class MemoryPlanTests
{
    /// <summary>
    /// The plan is what the interpreter allocates: its constructor allocates the planned buffers (resident weights
    /// excepted: they belong to the model) plus a bounded overhead of object headers and per-layer strides.
    /// </summary>
    [Fact]
    public void The_interpreter_allocates_what_its_plan_says()
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            byte[] bytes = ModelWriter.Write(RandomModels.Create(rng));
            var source = new ArraySource(bytes);
            foreach (bool streamed in new[] { false, true })
            {
                var model = ModelReader.Read(source, !streamed);
                Interpreter interpreter = null!;
                long allocated = Allocations.Least(() => interpreter = streamed ? new Interpreter(model, source) : new Interpreter(model), attempts: 3);
                var plan = interpreter.Plan;
                Assert.Equal(streamed, plan.Streamed);
                Assert.Equal(plan.WeightBytes + plan.ActivationBytes + plan.ScratchBytes, plan.TotalBytes);
                long buffers = plan.TotalBytes - (streamed ? 0 : plan.WeightBytes);
                long overhead = 1024 + 256L * model.Layers.Length;
                Assert.InRange(allocated, buffers, buffers + overhead);
            }
        }, iter: 100);
    }

    [Fact]
    public void Resident_weights_are_the_layer_sections_and_streaming_holds_one_filter()
    {
        Gen.Int.Sample(seed =>
        {
            var model = RandomModels.Create(new Random(seed));
            var resident = MemoryPlan.Compute(model, false);
            var streamed = MemoryPlan.Compute(model, true);
            Assert.Equal(model.Layers.Sum(l => l.DataBytes), resident.WeightBytes);
            Assert.Equal(resident.LayerWeightBytes.Sum(), resident.WeightBytes);
            int largestFilter = model.Layers.Max(l => l.FilterWords);
            Assert.True(streamed.WeightBytes >= 4 * largestFilter + MemoryPlan.ChunkBytes);
            Assert.True(streamed.WeightBytes <= 4 * (largestFilter + 2 * 256) + MemoryPlan.ChunkBytes);
            Assert.Equal(resident.ActivationBytes, streamed.ActivationBytes);
            // Two ping-pong buffers hold every tensor: the input planes and each layer's output.
            Assert.True(resident.ActivationBytes >= 4 * model.Layers.Max(l => Math.Max(l.InputWords, l.OutputWords)));
            for (int i = 0; i < model.Layers.Length; i++)
            {
                var l = model.Layers[i];
                int outWords = l.Output == OutputKind.Scores ? l.OutC : l.OutputWords;
                Assert.Equal(4 * (l.InputWords + outWords), resident.LayerActivationBytes[i]);
            }
        }, iter: 200);
    }
}
