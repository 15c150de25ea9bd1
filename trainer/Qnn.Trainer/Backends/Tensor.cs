namespace Qnn.Trainer.Backends;

/// <summary>
/// A float32 buffer owned by one <see cref="IBackend"/> (host memory for the CPU backend, device memory for a GPU
/// backend), with the shape it was allocated for. Kernels receive shapes separately, so a tensor allocated for the
/// largest batch also serves a smaller one.
/// </summary>
public abstract class Tensor : IDisposable
{
    protected Tensor(int[] shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension in shape [{string.Join(", ", shape)}]");
            n *= d;
        }
        if (n > int.MaxValue) throw new ArgumentException($"shape [{string.Join(", ", shape)}] has over 2^31 elements");
        Shape = (int[])shape.Clone();
        Length = (int)n;
    }

    public int[] Shape { get; }

    /// <summary>Number of elements.</summary>
    public int Length { get; }

    public virtual void Dispose() => GC.SuppressFinalize(this);

    public override string ToString() => $"Tensor[{string.Join("x", Shape)}]";
}
