using Qnn.Trainer.Layers;

namespace Qnn.Trainer.LowPrecision;

/// <summary>
/// Turns an architecture's layers into their low-precision training form (<c>--grad-bits</c>, <c>--bn</c>): every
/// product layer is wrapped in <see cref="QuantizedBackward"/> when the gradients have fewer than 32 bits, and every
/// batch norm becomes a <see cref="ShiftBatchNorm"/> with <c>--bn shift</c>. The forward of the network is unchanged
/// apart from the batch norm's powers of two.
/// </summary>
public static class LowPrecisionTraining
{
    /// <summary>The batch-norm kinds of <c>--bn</c>.</summary>
    public static readonly string[] BatchNormKinds = ["exact", "shift"];

    /// <summary>
    /// The rewritten layer list. <paramref name="gradientBits"/> = 32 (<see cref="GradientQuantization.Off"/>)
    /// keeps float gradients; 2-16 quantizes them. <paramref name="runSeed"/> seeds the stochastic roundings.
    /// <paramref name="scale"/> picks the max-norm of each quantization (per tensor or per sample); with
    /// <paramref name="hiddenOnly"/> the first and the last product layers are not wrapped and keep float gradients,
    /// as in the code of DoReFa-Net's authors (tensorpack <c>examples/DoReFa-Net/svhn-digit-dorefa.py</c> applies the
    /// gradient quantizer <c>fg</c> after conv1 … conv6, not after conv0 nor the last fully connected layer).
    /// </summary>
    public static List<Layer> Apply(List<Layer> layers, int gradientBits, string batchNorm, int runSeed, ProductPath path = ProductPath.Float,
        GradientScale scale = GradientScale.Tensor, bool hiddenOnly = false)
    {
        if (gradientBits != GradientQuantization.Off && gradientBits is < 2 or > 16)
            throw new ArgumentException($"gradient bits are 2-16, or 32 for float gradients (not {gradientBits})");
        bool shift = (batchNorm ?? "exact").ToLowerInvariant() switch
        {
            "exact" or "" => false,
            "shift" => true,
            _ => throw new ArgumentException($"unknown batch norm \"{batchNorm}\" (known: {string.Join(", ", BatchNormKinds)})"),
        };
        var products = Enumerable.Range(0, layers.Count).Where(i => layers[i] is BinaryDense or BinaryConv2D).ToList();
        var result = new List<Layer>(layers.Count);
        for (int i = 0; i < layers.Count; i++)
        {
            Layer layer = layers[i];
            if (shift && layer is BatchNorm bn and not ShiftBatchNorm) layer = new ShiftBatchNorm(bn.SharedScale, bn.Momentum, bn.Epsilon);
            bool end = hiddenOnly && products.Count > 0 && (i == products[0] || i == products[^1]);
            if (gradientBits != GradientQuantization.Off && layer is BinaryDense or BinaryConv2D && !end)
                layer = new QuantizedBackward(layer, gradientBits, path, scale) { RunSeed = runSeed, Index = i };
            result.Add(layer);
        }
        return result;
    }

    /// <summary>
    /// The layers as the export sees them: a <see cref="QuantizedBackward"/> is its inner product layer and a
    /// <see cref="ShiftBatchNorm"/> the exact <see cref="BatchNorm"/> with the same inference map
    /// (<see cref="ShiftBatchNorm.ToExact"/>). Other lists come back as they are.
    /// </summary>
    public static IReadOnlyList<Layer> InferenceLayers(IReadOnlyList<Layer> layers) =>
        layers.Any(l => l is QuantizedBackward or ShiftBatchNorm)
            ? layers.Select(l => l switch { QuantizedBackward q => q.Inner, ShiftBatchNorm s => s.ToExact(), _ => l }).ToList()
            : layers;
}
