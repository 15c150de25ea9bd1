using Qnn.Trainer.Backends;

namespace Qnn.Trainer.Layers;

/// <summary>Per-sample shape of an activation: height × width × channels (a vector is 1 × 1 × C).</summary>
public readonly record struct Shape(int H, int W, int C)
{
    public int Size => H * W * C;

    public override string ToString() => H == 1 && W == 1 ? $"{C}" : $"{H}x{W}x{C}";
}

/// <summary>What a layer knows about its input when it is built.</summary>
/// <param name="Shape">Per-sample shape.</param>
/// <param name="Bits">Bits of the quantized values it holds (8 for the image), 0 when real-valued.</param>
/// <param name="Dropped">True when a dropout sits in between: in training the values are then 0 or scaled levels.</param>
/// <param name="LinearGrid">
/// True when the levels are the linear grid with 0 (<see cref="Quantization.LinearLevels"/>, stored as v − 1), not odd
/// levels: then they are not ±1 at 1 bit, and the lowest level (conv padding) is −2^k.
/// </param>
public readonly record struct LayerInput(Shape Shape, int Bits, bool Dropped, bool LinearGrid = false);

/// <summary>A trainable tensor with its gradient and how the optimizer treats it.</summary>
public sealed class Parameter(string name, Tensor value, Tensor gradient, float learningRateScale, float clipLow, float clipHigh)
{
    public string Name { get; } = name;
    public Tensor Value { get; } = value;
    public Tensor Gradient { get; } = gradient;

    /// <summary>Multiplies the learning rate (the paper's per-layer Glorot scaling of binary weights).</summary>
    public float LearningRateScale { get; } = learningRateScale;

    public float ClipLow { get; } = clipLow;
    public float ClipHigh { get; } = clipHigh;
}

/// <summary>
/// One layer of a sequential network, written once over <see cref="IBackend"/>. Forward keeps what the backward
/// needs; buffers are allocated at build time for the largest batch.
/// </summary>
public abstract class Layer
{
    protected IBackend Backend { get; private set; } = null!;
    protected int MaxBatch { get; private set; }

    /// <summary>The registry name of the kind (Larq style: "binary_dense", "batch_norm", ...).</summary>
    public abstract string Kind { get; }

    public LayerInput Input { get; private set; }
    public Shape OutputShape { get; protected set; }

    /// <summary>
    /// The per-sample shape this layer outputs for an input of <paramref name="input"/>, computed without building it
    /// (the memory estimate reads it before anything is allocated); Build sets <see cref="OutputShape"/> from it.
    /// </summary>
    public virtual Shape OutputFor(Shape input) => input;

    /// <summary>Bits of the values this layer outputs (0 = real-valued), and whether they are exact levels.</summary>
    public virtual LayerInput Output => new(OutputShape, 0, false);

    /// <summary>False for the first layer with parameters: no gradient is propagated to the image.</summary>
    public bool NeedsInputGradient { get; set; } = true;

    public void Build(IBackend backend, LayerInput input, int maxBatch, Random rng)
    {
        Backend = backend;
        Input = input;
        MaxBatch = maxBatch;
        OutputShape = input.Shape;
        OnBuild(rng);
    }

    protected abstract void OnBuild(Random rng);

    /// <summary>Output for <paramref name="batch"/> samples of <paramref name="x"/> (training or inference mode).</summary>
    public abstract Tensor Forward(Tensor x, int batch, bool training, long step);

    /// <summary>Input gradient (null when <see cref="NeedsInputGradient"/> is false); parameter gradients are overwritten.</summary>
    public abstract Tensor? Backward(Tensor dy, int batch);

    public virtual IReadOnlyList<Parameter> Parameters => [];

    /// <summary>Non-trainable state saved in checkpoints (batch-norm running statistics).</summary>
    public virtual IReadOnlyList<Tensor> State => [];

    /// <summary>A one-line description for summaries.</summary>
    public virtual string Describe() => Kind;

    /// <summary>Per-sample float count of a shape times the batch.</summary>
    protected Tensor Buffer(Shape s) => Backend.Allocate(MaxBatch, s.H, s.W, s.C);
}
