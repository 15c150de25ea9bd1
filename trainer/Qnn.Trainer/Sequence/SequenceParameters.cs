using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;

namespace Qnn.Trainer.Sequence;

/// <summary>
/// The parameters of a sequence model as CPU tensors (so <see cref="Adam"/> and the checkpoints take them as they
/// take the feed-forward layers'): latent weights uniform in [−1, 1] and clipped there (BinaryConnect; unclipped in
/// float), quantized to odd levels of m bits for the forward and backward passes, the gradient passed straight
/// through (times M, since the levels are stored unscaled).
/// </summary>
public static class SequenceParameters
{
    public static Parameter Uniform(string name, int rows, int cols, float clip, Random rng)
    {
        var init = new float[rows * cols];
        for (int i = 0; i < init.Length; i++) init[i] = (float)(rng.NextDouble() * 2 - 1);
        return new Parameter(name, Tensor(init, rows, cols), new CpuTensor([rows, cols]), 1f, -clip, clip);
    }

    /// <summary>
    /// Unclipped values (scales, biases). <paramref name="learningRateScale"/> makes Adam's steps relative to the
    /// values' size: a per-channel scale near 1 / (M·L·√n) would otherwise change by several times its value per step.
    /// </summary>
    public static Parameter Of(string name, float[] values, float learningRateScale = 1f) =>
        new(name, Tensor(values, values.Length), new CpuTensor([values.Length]), learningRateScale, float.NegativeInfinity, float.PositiveInfinity);

    private static CpuTensor Tensor(float[] values, params int[] shape)
    {
        var t = new CpuTensor(shape);
        values.CopyTo(t.Data, 0);
        return t;
    }

    public static float[] Data(Parameter p) => ((CpuTensor)p.Value).Data;

    public static float[] Gradient(Parameter p) => ((CpuTensor)p.Gradient).Data;

    /// <summary>The forward pass's weights in <paramref name="buffer"/>: odd levels v = 2q − M of m bits, or the latent values in float.</summary>
    public static float[] Levels(Parameter p, SequenceBits bits, ref float[] buffer)
    {
        var latent = Data(p);
        if (buffer.Length != latent.Length) buffer = new float[latent.Length];
        if (bits.Float) latent.CopyTo(buffer, 0);
        else
            for (int i = 0; i < latent.Length; i++) buffer[i] = Quantization.Levels.Quantize(latent[i], bits.Weight);
        return buffer;
    }

    /// <summary>Adds the gradient of the levels to the latent weights' (straight through: times M).</summary>
    public static void AddLatentGradient(Parameter p, float[] levelGradient, SequenceBits bits)
    {
        var g = Gradient(p);
        float m = bits.M;
        for (int i = 0; i < g.Length; i++) g[i] += m * levelGradient[i];
    }
}
