using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;

namespace Qnn.Trainer;

/// <summary>A first-order optimizer over a network's parameters; its state is saved in checkpoints.</summary>
public abstract class Optimizer
{
    /// <summary>Registry name.</summary>
    public abstract string Name { get; }

    /// <summary>Steps taken so far.</summary>
    public long Steps { get; set; }

    /// <summary>One update with learning rate <paramref name="lr"/> (times each parameter's scale).</summary>
    public abstract void Step(IReadOnlyList<Parameter> parameters, float lr);

    /// <summary>State tensors in a fixed order (for checkpoints), allocated on first use.</summary>
    public virtual IReadOnlyList<Tensor> State(IReadOnlyList<Parameter> parameters) =>
        parameters.SelectMany(p => { var (first, second) = Moments(p); return new[] { first, second }; }).ToArray();

    /// <summary>The backend the optimizer's state lives on.</summary>
    protected abstract IBackend Backend { get; }

    private readonly Dictionary<Parameter, (Tensor First, Tensor Second)> moments = [];

    /// <summary>A parameter's first and second moment (Adam's m and v, AdaMax's m and u), zeros on first use.</summary>
    protected (Tensor First, Tensor Second) Moments(Parameter p)
    {
        if (!moments.TryGetValue(p, out var pair))
        {
            pair = (Backend.Allocate(p.Value.Length), Backend.Allocate(p.Value.Length));
            moments[p] = pair;
        }
        return pair;
    }
}

/// <summary>
/// Adam with the paper's settings (b1 = 0.9, b2 = 0.999, eps = 1e-8, Lasagne's bias-corrected step), the learning
/// rate multiplied per parameter by its scale (Glorot for binary weights) and latent weights clipped to [−1, 1].
/// </summary>
public sealed class Adam(IBackend backend, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f) : Optimizer
{
    public override string Name => "adam";

    protected override IBackend Backend => backend;

    public override void Step(IReadOnlyList<Parameter> parameters, float lr)
    {
        Steps++;
        double t = Steps;
        double correction = Math.Sqrt(1 - Math.Pow(beta2, t)) / (1 - Math.Pow(beta1, t));
        foreach (var p in parameters)
        {
            var (m, v) = Moments(p);
            float step = (float)(lr * p.LearningRateScale * correction);
            backend.AdamStep(p.Value, p.Gradient, m, v, p.Value.Length, step, beta1, beta2, epsilon, p.ClipLow, p.ClipHigh);
        }
    }
}
