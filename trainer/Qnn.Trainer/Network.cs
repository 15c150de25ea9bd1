using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;

namespace Qnn.Trainer;

/// <summary>
/// A sequential network on one backend. Its input is the image as the odd 8-bit levels v = 2p − 255 (the pixel
/// p centered, format/SPEC.md 1.1): every product in the network is then an integer sum, and the first layer's
/// accumulator is 2 · (the runtime's unsigned accumulator) − 255 · Σw, which the export folds exactly. The
/// padding of a first conv layer (−255) is the pixel 0 the runtime pads with.
/// </summary>
public sealed class Network : IDisposable
{
    public const int InputBits = 8;

    private readonly Tensor input;
    private readonly float[] inputHost;
    private int firstTrainable;

    public Network(IBackend backend, Shape inputShape, int classCount, IReadOnlyList<Layer> layers, int maxBatch, int seed)
    {
        if (layers.Count == 0) throw new ArgumentException("a network needs layers");
        Backend = backend;
        InputShape = inputShape;
        ClassCount = classCount;
        Layers = layers;
        MaxBatch = maxBatch;
        var rng = new Random(seed);
        var current = new LayerInput(inputShape, InputBits, false);
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i] is Dropout d)
            {
                d.RunSeed = seed;
                d.Index = i;
            }
            if (layers[i] is QuantizedActivation a)
            {
                a.RunSeed = seed;
                a.Index = i;
            }
            layers[i].Build(backend, current, maxBatch, rng);
            var product = layers[i] is LowPrecision.QuantizedBackward wrapped ? wrapped.Inner : layers[i];
            var weights = product is BinaryDense bd ? bd.Weights : product is BinaryConv2D bc ? bc.Weights : null;
            if (weights is not null)
            {
                weights.RunSeed = seed;
                weights.Index = i;
            }
            current = layers[i].Output;
        }
        if (current.Shape.Size != classCount)
            throw new ArgumentException($"the last layer outputs {current.Shape.Size} values for {classCount} classes");
        firstTrainable = 0;
        while (firstTrainable < layers.Count && layers[firstTrainable].Parameters.Count == 0) firstTrainable++;
        if (firstTrainable < layers.Count) layers[firstTrainable].NeedsInputGradient = false;
        input = backend.Allocate(maxBatch, inputShape.H, inputShape.W, inputShape.C);
        inputHost = new float[maxBatch * inputShape.Size];
    }

    public IBackend Backend { get; }
    public Shape InputShape { get; }
    public int ClassCount { get; }
    public IReadOnlyList<Layer> Layers { get; }
    public int MaxBatch { get; }

    public IEnumerable<Parameter> Parameters => Layers.SelectMany(l => l.Parameters);

    /// <summary>Non-trainable state (running statistics), in layer order.</summary>
    public IEnumerable<Tensor> State => Layers.SelectMany(l => l.State);

    /// <summary>The centered level of a pixel: v = InputScale · p − InputOffset = 2p − 255 (the exporter folds the same map).</summary>
    public static float InputLevel(byte pixel) => InputScale * pixel - InputOffset;

    public const int InputScale = 2, InputOffset = 255;

    /// <summary>Uploads samples <paramref name="indices"/> of <paramref name="pixels"/> (sampleBytes each) as input levels.</summary>
    public void SetInput(byte[] pixels, ReadOnlySpan<int> indices)
    {
        int size = InputShape.Size;
        if (indices.Length > MaxBatch) throw new ArgumentException($"batch of {indices.Length} is over {MaxBatch}");
        for (int b = 0; b < indices.Length; b++)
        {
            int src = indices[b] * size, dst = b * size;
            for (int i = 0; i < size; i++) inputHost[dst + i] = InputLevel(pixels[src + i]);
        }
        Backend.Upload(inputHost.AsSpan(0, indices.Length * size), input);
    }

    /// <summary>The class scores of the batch set by <see cref="SetInput"/>.</summary>
    public Tensor Forward(int batch, bool training, long step)
    {
        Tensor x = input;
        foreach (var layer in Layers) x = layer.Forward(x, batch, training, step);
        return x;
    }

    /// <summary>Backward from the score gradient; leaves every parameter's gradient.</summary>
    public void Backward(Tensor dScores, int batch)
    {
        Tensor? d = dScores;
        for (int i = Layers.Count - 1; i >= firstTrainable && d != null; i--) d = Layers[i].Backward(d, batch);
    }

    /// <summary>Runs every layer up to (not including) <paramref name="end"/> in inference mode and returns its output.</summary>
    public Tensor ForwardTo(int end, int batch)
    {
        Tensor x = input;
        for (int i = 0; i < end; i++) x = Layers[i].Forward(x, batch, false, 0);
        return x;
    }

    /// <summary>Float predictions (inference mode) and scores for a data set slice; returns correct count.</summary>
    public int Evaluate(byte[] pixels, byte[] labels, int start, int count, Span<int> predictions, out double lossSum, LossKind lossKind)
    {
        var scores = new float[MaxBatch * ClassCount];
        var idx = new int[MaxBatch];
        var labelTensor = Backend.Allocate(MaxBatch);
        var lossTensor = Backend.Allocate(MaxBatch);
        var dScores = Backend.Allocate(MaxBatch, ClassCount);
        var labelHost = new float[MaxBatch];
        var lossHost = new float[MaxBatch];
        int correct = 0;
        lossSum = 0;
        for (int b0 = 0; b0 < count; b0 += MaxBatch)
        {
            int n = Math.Min(MaxBatch, count - b0);
            for (int i = 0; i < n; i++)
            {
                idx[i] = start + b0 + i;
                labelHost[i] = labels[start + b0 + i];
            }
            SetInput(pixels, idx.AsSpan(0, n));
            Tensor s = Forward(n, false, 0);
            Backend.Download(s, scores.AsSpan(0, n * ClassCount));
            Backend.Upload(labelHost.AsSpan(0, n), labelTensor);
            Backend.LossForwardBackward(lossKind, s, labelTensor, n, ClassCount, lossTensor, dScores);
            Backend.Download(lossTensor, lossHost.AsSpan(0, n));
            for (int i = 0; i < n; i++)
            {
                lossSum += lossHost[i];
                int p = ArgMax(scores.AsSpan(i * ClassCount, ClassCount));
                if (!predictions.IsEmpty) predictions[b0 + i] = p;
                if (p == labels[start + b0 + i]) correct++;
            }
        }
        labelTensor.Dispose();
        lossTensor.Dispose();
        dScores.Dispose();
        return correct;
    }

    /// <summary>The lowest index among the highest values (the rule of format/SPEC.md 1.7).</summary>
    public static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++)
            if (v[i] > v[best]) best = i;
        return best;
    }

    public string Summary() => string.Join(Environment.NewLine, Layers.Select((l, i) => $"{i,3}  {l.Describe()}"));

    public void Dispose() => Backend.Dispose();
}
