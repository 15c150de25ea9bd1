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
                Assert.Equal(plan.WeightBytes + plan.ActivationBytes + plan.ScratchBytes + plan.ObjectBytes, plan.TotalBytes);
                long buffers = plan.ActivationBytes + plan.ScratchBytes + (streamed ? plan.WeightBytes : 0);
                Assert.InRange(allocated, buffers, buffers + plan.ObjectBytes);
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
            // Two ping-pong buffers hold every layer's output (the first layer reads the caller's image).
            Assert.True(resident.ActivationBytes >= 4 * model.Layers.Max(l => l.Output == OutputKind.Scores ? l.OutC : l.OutputWords));
            for (int i = 0; i < model.Layers.Length; i++)
            {
                var l = model.Layers[i];
                int outWords = l.Output == OutputKind.Scores ? l.OutC : l.OutputWords;
                Assert.Equal(4 * (l.InputWords + outWords), resident.LayerActivationBytes[i]);
            }
        }, iter: 200);
    }

    /// <summary>
    /// What a device holds is not below the plan: from the start of the load (ModelReader.Read on the file's bytes)
    /// to the end of the first inference, the portable core allocates at most <see cref="MemoryPlan.LoadBytes"/>
    /// bytes on .NET (garbage included, so the peak is lower), and what stays allocated, at most TotalBytes.
    /// </summary>
    [Fact]
    public void Load_and_inference_allocate_no_more_than_the_plan()
    {
        Gen.Int.Sample(seed =>
        {
            var rng = new Random(seed);
            byte[] bytes = ModelWriter.Write(RandomModels.Create(rng));
            var source = new ArraySource(bytes);
            var header = ModelReader.Read(source, false);
            var image = new byte[header.InputHeight * header.InputWidth * header.InputChannels];
            rng.NextBytes(image);
            var scores = new int[header.ClassCount];
            foreach (bool streamed in new[] { false, true })
            {
                MemoryPlan plan = MemoryPlan.Compute(header, streamed);
                long allocated = Allocations.Least(() =>
                {
                    var model = ModelReader.Read(source, !streamed);
                    var interpreter = streamed ? new Interpreter(model, source) : new Interpreter(model);
                    interpreter.Run(image, scores);
                }, attempts: 2);
                Assert.True(allocated <= plan.LoadBytes, $"seed {seed}, streamed {streamed}: allocated {allocated} > plan {plan.LoadBytes}");
                Assert.True(plan.LoadBytes >= plan.TotalBytes);
            }
        }, iter: 100);
    }

    /// <summary>The object sizes of the plan count the fields these types have.</summary>
    [Fact]
    public void The_plan_counts_the_fields_of_the_objects_it_sizes()
    {
        static int Fields(Type t) => t.GetFields(System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.NonPublic).Length;
        Assert.Equal(MemoryPlan.InterpreterFields, Fields(typeof(Interpreter)));
        Assert.Equal(MemoryPlan.MemoryPlanFields, Fields(typeof(MemoryPlan)));
        Assert.Equal(MemoryPlan.LayerGeometryFields, Fields(typeof(LayerGeometry)));
        Assert.Equal(MemoryPlan.QnnModelFields, Fields(typeof(QnnModel)));
        Assert.Equal(MemoryPlan.LayerSpecFields, Fields(typeof(LayerSpec)));
    }
}
