using CsCheck;
using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;
using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.Tests;

/// <summary>The QNN paper's linear quantizer and the BNN paper's stochastic binarization (Quantization/ActivationQuantizers.cs).</summary>
public class PaperQuantizerTests
{
    [Fact]
    public void Linear_grid_is_the_papers_LinearQuant_with_zero_in_it()
    {
        // LinearQuant(x) = Clip(round(x / Δ) · Δ, −1, 1 − Δ), Δ = 2^(1−k), ties up; stored as 2^k times that value.
        Gen.Select(Gen.Float[-1.6f, 1.6f], Gen.Int[1, 4]).Sample(t =>
        {
            var (x, bits) = t;
            double step = 2.0 / (1 << bits);
            double value = Math.Clamp(Math.Floor(x / step + 0.5) * step, -1, 1 - step);
            Assert.Equal((float)(value * (1 << bits)), LinearLevels.Quantize(x, bits));
        }, iter: 3000);
        for (int bits = 1; bits <= 4; bits++)
        {
            Assert.Equal(0f, LinearLevels.Quantize(0f, bits));                       // 0 is a level
            Assert.Equal(-(1 << bits), LinearLevels.Quantize(-1f, bits));             // −1 is the lowest
            for (int l = 1; l <= Levels.Max(bits); l++)
            {
                float b = LinearLevels.Boundary(l, bits);
                Assert.Equal(l, LinearLevels.Index(b, bits));
                Assert.Equal(l - 1, LinearLevels.Index(MathF.BitDecrement(b), bits));
                // The stored value is the odd level v = 2q − L minus 1: an affine map the export folds.
                Assert.Equal(2 * l - Levels.Max(bits) - 1, LinearLevels.Stored(l, bits));
            }
        }
        Assert.Equal(0, LinearLevels.Index(float.NaN, 2));
    }

    [Fact]
    public void Stochastic_binarization_is_plus_one_with_probability_hard_sigmoid()
    {
        Assert.Equal(0.5f, StochasticBinarization.HardSigmoid(0f));
        Assert.Equal(0f, StochasticBinarization.HardSigmoid(-3f));
        Assert.Equal(1f, StochasticBinarization.HardSigmoid(3f));
        const int n = 200_000;
        foreach (float x in new[] { -1f, -0.5f, 0f, 0.3f, 1f })
        {
            int plus = 0;
            for (int i = 0; i < n; i++)
                if (StochasticBinarization.Binarize(x, 12345, i) > 0) plus++;
            double p = StochasticBinarization.HardSigmoid(x);
            Assert.InRange((double)plus / n, p - 0.005, p + 0.005);
        }
        Assert.Equal(-1f, StochasticBinarization.Binarize(float.NaN, 1, 0));
    }

    [Fact]
    public void Stochastic_layer_draws_in_training_and_takes_the_sign_at_inference()
    {
        var backend = new CpuBackend();
        var act = new QuantizedActivation(1, ActivationQuantizer.Stochastic) { RunSeed = 7, Index = 3 };
        act.Build(backend, new LayerInput(new Shape(1, 1, 4096), 0, false), 1, new Random(1));
        var x = backend.Allocate(1, 4096);
        backend.Upload(Enumerable.Repeat(0.2f, 4096).ToArray(), x);
        var y = new float[4096];
        backend.Download(act.Forward(x, 1, false, 5), y);
        Assert.All(y, v => Assert.Equal(1f, v));
        backend.Download(act.Forward(x, 1, true, 5), y);
        Assert.InRange(y.Count(v => v > 0), 0.6 * 4096 - 150, 0.6 * 4096 + 150);
        var again = new float[4096];
        backend.Download(act.Forward(x, 1, true, 5), again);
        Assert.Equal(y, again);                                   // a function of (seed, layer, step, element)
        backend.Download(act.Forward(x, 1, true, 6), again);
        Assert.NotEqual(y, again);
    }

    [Fact]
    public void Names_parse_with_their_bit_counts()
    {
        Assert.Equal(ActivationQuantizer.Odd, ActivationQuantizers.Parse("sign", 1));
        Assert.Equal(ActivationQuantizer.Odd, ActivationQuantizers.Parse("odd", 3));
        Assert.Equal(ActivationQuantizer.Linear, ActivationQuantizers.Parse("linear", 2));
        Assert.Equal(ActivationQuantizer.Stochastic, ActivationQuantizers.Parse("stochastic", 1));
        Assert.Throws<ArgumentException>(() => ActivationQuantizers.Parse("sign", 2));
        Assert.Throws<ArgumentException>(() => ActivationQuantizers.Parse("log", 1));
    }
}
