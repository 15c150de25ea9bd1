using Qnn.Trainer.Backends;

namespace Qnn.Trainer.Layers;

/// <summary>
/// Max-pooling without padding. Directly after a convolution it pools the accumulators (the export fuses it into
/// the conv, format/SPEC.md 1.5); after an activation it pools levels (SPEC 1.8).
/// </summary>
public sealed class MaxPool2D(int pool, int stride = 0) : Layer
{
    private Tensor x = null!, y = null!, dx = null!;

    public override string Kind => "max_pool2d";
    public int Pool { get; } = pool;
    public int Stride { get; } = stride > 0 ? stride : pool;
    public PoolGeometry Geometry { get; private set; }

    public override LayerInput Output => Input with { Shape = OutputShape };

    public override Shape OutputFor(Shape s) => new((s.H - Pool) / Stride + 1, (s.W - Pool) / Stride + 1, s.C);

    protected override void OnBuild(Random rng)
    {
        var s = Input.Shape;
        OutputShape = OutputFor(s);
        int oh = OutputShape.H, ow = OutputShape.W;
        if (s.H < Pool || s.W < Pool) throw new ArgumentException($"pool {Pool} does not fit the {s} input");
        Geometry = new PoolGeometry(s.H, s.W, s.C, Pool, Pool, Stride, Stride, oh, ow);
        y = Buffer(OutputShape);
        dx = Buffer(s);
    }

    public override Tensor Forward(Tensor input, int batch, bool training, long step)
    {
        x = input;
        Backend.MaxPool(x, Geometry, batch, y);
        return y;
    }

    public override Tensor? Backward(Tensor dy, int batch)
    {
        Backend.MaxPoolBackward(x, y, dy, Geometry, batch, dx);
        return dx;
    }

    public override string Describe() => $"max_pool2d {Input.Shape} -> {OutputShape}, {Pool}x{Pool} stride {Stride}";
}
