using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;

namespace Qnn.Trainer;

/// <summary>
/// Named building blocks (Larq style): quantizers, losses, optimizers and architectures are chosen by name from
/// code and from the command line. Another backend or a later optimizer registers itself here.
/// </summary>
public static class Registry
{
    /// <summary>Activation quantizers by name; the argument is the bit count.</summary>
    public static readonly Dictionary<string, Func<int, Layer>> Quantizers = new(StringComparer.OrdinalIgnoreCase)
    {
        ["ste_sign"] = _ => new QuantizedActivation(1),
        ["ste_levels"] = bits => new QuantizedActivation(bits),
        ["ste_linear"] = bits => new QuantizedActivation(bits, Quantization.ActivationQuantizer.Linear),
        ["ste_stochastic_sign"] = _ => new QuantizedActivation(1, Quantization.ActivationQuantizer.Stochastic),
    };

    public static readonly Dictionary<string, LossKind> Losses = new(StringComparer.OrdinalIgnoreCase)
    {
        ["squared_hinge"] = LossKind.SquaredHinge,
        ["softmax_cross_entropy"] = LossKind.SoftmaxCrossEntropy,
    };

    public static readonly Dictionary<string, Func<IBackend, Optimizer>> Optimizers = new(StringComparer.OrdinalIgnoreCase)
    {
        ["adam"] = b => new Adam(b),
        ["adamax-shift"] = b => new LowPrecision.AdaMaxShift(b),
    };

    public static readonly Dictionary<string, Func<IBackend>> Backends = new(StringComparer.OrdinalIgnoreCase)
    {
        ["cpu"] = () => new CpuBackend(),
    };

    /// <summary>The quantizer layer for activations of <paramref name="bits"/> bits.</summary>
    public static Layer Activation(int bits, Quantization.ActivationQuantizer quantizer = Quantization.ActivationQuantizer.Odd) =>
        Quantizers[quantizer switch
        {
            Quantization.ActivationQuantizer.Linear => "ste_linear",
            Quantization.ActivationQuantizer.Stochastic => "ste_stochastic_sign",
            _ => bits == 1 ? "ste_sign" : "ste_levels",
        }](bits);

    /// <summary>Looks a name up, or throws an ArgumentException that lists the known names.</summary>
    public static T Get<T>(Dictionary<string, T> table, string name, string what) =>
        table.TryGetValue(name, out var value)
            ? value
            : throw new ArgumentException($"unknown {what} \"{name}\" (known: {string.Join(", ", table.Keys)})");
}
