using CsCheck;
using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;
using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.Tests;

public class QuantizerTests
{
    [Fact]
    public void Sign_of_zero_is_plus_one_and_levels_are_odd_and_symmetric()
    {
        Assert.Equal(1f, Levels.Quantize(0f, 1));
        Assert.Equal(1f, Levels.Quantize(-0f, 1));
        Assert.Equal(-1f, Levels.Quantize(-1e-30f, 1));
        for (int bits = 1; bits <= 4; bits++)
        {
            int max = Levels.Max(bits);
            Assert.Equal(-max, Levels.Quantize(-5f, bits));
            Assert.Equal(max, Levels.Quantize(5f, bits));
            for (int l = 1; l <= max; l++)
            {
                // Ties go up: exactly on boundary l is level l; just below is level l − 1.
                float b = Levels.Boundary(l, bits);
                Assert.Equal(l, Levels.Index(b, bits));
                Assert.Equal(l - 1, Levels.Index(MathF.BitDecrement(b), bits));
            }
        }
    }

    [Fact]
    public void Level_index_counts_the_boundaries_at_or_below_x()
    {
        Gen.Select(Gen.Float[-1.5f, 1.5f], Gen.Int[1, 8]).Sample(t =>
        {
            var (x, bits) = t;
            int count = 0;
            for (int l = 1; l <= Levels.Max(bits); l++)
                if (x >= Levels.Boundary(l, bits)) count++;
            Assert.Equal(count, Levels.Index(x, bits));
        }, iter: 2000);
    }

    [Fact]
    public void Ste_passes_the_gradient_times_L_inside_the_unit_interval_and_cancels_it_outside()
    {
        var backend = new CpuBackend();
        for (int bits = 1; bits <= 4; bits++)
        {
            var act = new QuantizedActivation(bits);
            act.Build(backend, new LayerInput(new Shape(1, 1, 6), 0, false), 1, new Random(1));
            var x = backend.Allocate(1, 6);
            backend.Upload(new[] { -2f, -1f, -0.3f, 0f, 1f, 1.0001f }, x);
            var y = new float[6];
            backend.Download(act.Forward(x, 1, true, 0), y);
            int max = Levels.Max(bits);
            Assert.Equal(new[] { -max, -max, Levels.Quantize(-0.3f, bits), 1, max, max }.Select(v => (float)v), y);
            var dy = backend.Allocate(1, 6);
            backend.Upload(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, dy);
            var dx = new float[6];
            backend.Download(act.Backward(dy, 1)!, dx);
            Assert.Equal(new[] { 0f, 2f * max, 3f * max, 4f * max, 5f * max, 0f }, dx);
        }
    }

    [Fact]
    public void Latent_weights_are_clipped_to_the_unit_interval_and_get_the_straight_through_gradient()
    {
        var backend = new CpuBackend();
        foreach (int bits in new[] { 1, 3 })
        {
            var dense = new BinaryDense(3, bits);
            dense.Build(backend, new LayerInput(new Shape(1, 1, 4), 1, false), 2, new Random(3));
            var x = backend.Allocate(2, 4);
            backend.Upload(new[] { 1f, -1f, 1f, 1f, -1f, -1f, 1f, -1f }, x);
            dense.Forward(x, 2, true, 0);
            var dy = backend.Allocate(2, 3);
            backend.Upload(new[] { 100f, -100f, 50f, 100f, -100f, 50f }, dy);
            dense.Backward(dy, 2);
            var dq = new float[12];
            var dl = new float[12];
            backend.Download(dense.Weights.QuantizedGradient, dq);
            backend.Download(dense.Weights.Gradient, dl);
            Assert.Equal(dq.Select(v => v * Levels.Max(bits)), dl);
            var adam = new Adam(backend);
            for (int i = 0; i < 50; i++) adam.Step(dense.Parameters, 1f);
            var w = new float[12];
            backend.Download(dense.Weights.Latent, w);
            Assert.All(w, v => Assert.InRange(v, -1f, 1f));
            Assert.Contains(w, v => v is -1f or 1f);   // big steps reached the clip
        }
    }
}
