using Qnn.Trainer.Backends;

namespace Qnn.Trainer.Layers;

/// <summary>
/// Inverted dropout (training only). Its mask is a function of (run seed, layer, step), never of a generator's
/// state, so a resumed run repeats it exactly.
/// </summary>
public sealed class Dropout(float rate) : Layer
{
    private Tensor y = null!, dx = null!;
    private ulong seed;
    private bool active;

    public override string Kind => "dropout";
    public float Rate { get; } = rate is >= 0f and < 1f ? rate : throw new ArgumentOutOfRangeException(nameof(rate), "dropout rate is in [0, 1)");

    /// <summary>Set by the network: the run's seed and this layer's index, mixed with the step into the mask seed.</summary>
    public int RunSeed { get; set; }
    public int Index { get; set; }

    public override LayerInput Output => Input with { Shape = OutputShape, Dropped = Input.Dropped || Rate > 0f };

    protected override void OnBuild(Random rng)
    {
        y = Buffer(Input.Shape);
        dx = Buffer(Input.Shape);
    }

    public override Tensor Forward(Tensor input, int batch, bool training, long step)
    {
        active = training && Rate > 0f;
        if (!active) return input;
        seed = DropoutMask.Seed(RunSeed, Index, step);
        Backend.Dropout(input, y, batch * Input.Shape.Size, Rate, seed);
        return y;
    }

    public override Tensor? Backward(Tensor dy, int batch)
    {
        if (!active) return dy;
        Backend.Dropout(dy, dx, batch * Input.Shape.Size, Rate, seed);
        return dx;
    }

    public override string Describe() => $"dropout {Rate:0.##}";
}
