using CsCheck;
using Qnn.Format;
using Qnn.Trainer.Backends;
using Qnn.Trainer.Quantization;
using Qnn.Trainer.Training;

namespace Qnn.Trainer.Tests;

/// <summary>The QNN paper's log quantizer for weights and the BNN paper's stochastic weights (Quantization/WeightQuantizers.cs).</summary>
public class WeightQuantizerTests
{
    [Fact]
    public void Log_weights_are_the_papers_LogQuant_clipped_to_the_exponents_the_bits_hold()
    {
        // LogQuant(x) = Clip(AP2(x), minV, maxV), AP2(x) = sign(x)·2^round(log2|x|), here minV = 2^−(E−1), maxV = 1,
        // E = 2^(m−1); stored as 2^(E−1) times that value. Rounding in the log domain (ties up), in double precision.
        Gen.Select(Gen.Float[-1f, 1f], Gen.Int[2, 4]).Sample(t =>
        {
            var (x, bits) = t;
            int top = LogLevels.Exponents(bits) - 1;
            double a = Math.Abs((double)x);
            double boundary(int l) => (double)LogLevels.Boundary(l, bits);
            // The float32 boundaries are √½ rounded: compare with them, and check they are within an ulp of 2^(l − ½).
            int e = 0;
            for (int l = 1; l <= top; l++) if (a >= boundary(l)) e = l;
            double ap2 = a == 0 ? 0 : Math.Clamp(Math.Round(Math.Log2(a) + top, MidpointRounding.AwayFromZero), 0, top);
            if (Math.Abs(Math.Log2(a) + top - Math.Floor(Math.Log2(a) + top) - 0.5) > 1e-6) Assert.Equal(ap2, e);
            double expected = (x >= 0 ? 1 : -1) * Math.Pow(2, e);
            Assert.Equal((float)expected, LogLevels.Quantize(x, bits));
            int code = LogLevels.Code(x, bits);
            Assert.Equal((float)expected, LogLevels.Stored(code));
        }, iter: 5000);
        for (int bits = 2; bits <= 4; bits++)
        {
            int top = LogLevels.Exponents(bits) - 1;
            for (int l = 1; l <= top; l++)
                Assert.InRange((double)LogLevels.Boundary(l, bits), Math.Pow(2, l - top - 0.5) * (1 - 1e-7), Math.Pow(2, l - top - 0.5) * (1 + 1e-7));
            Assert.Equal(1f, LogLevels.Quantize(0f, bits));                     // sign(0) = +1, clipped up to minV
            Assert.Equal(1 << top, LogLevels.Quantize(1f, bits));               // maxV
            Assert.Equal(-(1 << top), LogLevels.Quantize(-1f, bits));
            Assert.Equal(1 << top, LogLevels.Scale(bits));
        }
        Assert.Equal(-1f, LogLevels.Quantize(float.NaN, 3));
    }

    [Fact]
    public void Log_weight_codes_are_the_formats_values()
    {
        // The trainer's stored value of a code is LayerSpec.WeightValue of a log layer: the integer every runtime uses.
        for (int bits = 2; bits <= 4; bits++)
        {
            var spec = LayerFactory.Dense(1, 1, 8, 2, bits, 1, true, OutputKind.Thresholds, 1, WeightCode.Log);
            for (int q = 0; q < 1 << bits; q++)
                Assert.Equal(spec.WeightValue(q), WeightQuantizers.Stored(WeightQuantizer.Log, q, bits));
            Assert.Equal(spec.LargestWeight, WeightQuantizers.Largest(WeightQuantizer.Log, bits));
        }
    }

    [Theory]
    [InlineData("log", 1, "--weight-quant log needs --weight-bits 2-4")]
    [InlineData("stochastic", 2, "--weight-quant stochastic binarizes: it needs --weight-bits 1, not 2")]
    [InlineData("sign", 3, "--weight-quant sign binarizes")]
    [InlineData("linear", 2, "--weight-quant linear: the paper's LinearQuant grid holds 0")]
    [InlineData("ternary", 2, "--weight-quant: unknown quantizer \"ternary\"")]
    public void Bad_weight_quantizers_are_one_line_errors(string name, int bits, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => new TrainOptions { WeightQuant = name, WeightBits = bits }.Validate());
        Assert.StartsWith(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Stochastic_weights_draw_while_training_and_take_the_sign_otherwise()
    {
        var backend = new CpuBackend();
        var w = new LatentWeights(backend, "w", 40, 50, 1, 50, 40, new Random(2), WeightQuantizer.Stochastic) { RunSeed = 5, Index = 1 };
        var latent = new float[2000];
        backend.Download(w.Latent, latent);
        var q = new float[2000];
        w.Quantize(backend, training: false, step: 3);
        backend.Download(w.Quantized, q);
        Assert.Equal(latent.Select(x => x >= 0 ? 1f : -1f), q);
        w.Quantize(backend, training: true, step: 3);
        backend.Download(w.Quantized, q);
        var first = (float[])q.Clone();
        Assert.All(q, v => Assert.True(v is 1f or -1f));
        Assert.NotEqual(latent.Select(x => x >= 0 ? 1f : -1f), q);           // some weights drew against their sign
        for (int i = 0; i < q.Length; i++)
            Assert.Equal(StochasticBinarization.Binarize(latent[i], StochasticBinarization.WeightSeed(5, 1, 3), i), q[i]);
        w.Quantize(backend, training: true, step: 4);
        backend.Download(w.Quantized, q);
        Assert.NotEqual(first, q);                                              // a new draw every step
    }
}
