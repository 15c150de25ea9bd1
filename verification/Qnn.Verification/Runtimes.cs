using Qnn.Format;
using Qnn.Runtime.Edge;
using Qnn.Runtime.Edge.Fast;
using Qnn.Runtime.Gpu;

namespace Qnn.Verification;

/// <summary>The reference: the portable interpreter, one image at a time, layers through its LayerObserver.</summary>
public sealed class PortableRuntime(QnnModel m) : IntegerRuntime
{
    private readonly Interpreter _interpreter = new(m);
    private readonly byte[] _image = new byte[m.InputHeight * m.InputWidth * m.InputChannels];
    private readonly int[] _scores = new int[m.ClassCount];

    public override string Name => "portable";

    private sealed class Capture(uint[][] layers, int sample) : LayerObserver
    {
        public override void OnLayer(int layer, uint[] words, int wordCount) => Array.Copy(words, 0, layers[layer], sample * wordCount, wordCount);
    }

    public override void Run(ReadOnlySpan<byte> images, int count, int[] scores, uint[][]? layers)
    {
        for (int n = 0; n < count; n++)
        {
            images.Slice(n * _image.Length, _image.Length).CopyTo(_image);
            _interpreter.Observer = layers is null ? null : new Capture(layers, n);
            _interpreter.Run(_image, _scores);
            Array.Copy(_scores, 0, scores, n * m.ClassCount, m.ClassCount);
        }
    }
}

/// <summary>The fast .NET path: batches across cores; per-image RunLayers for layer outputs.</summary>
public sealed class FastRuntime(QnnModel m) : IntegerRuntime
{
    private readonly FastInterpreter _interpreter = new(m);
    public override string Name => "fast";

    public override void Run(ReadOnlySpan<byte> images, int count, int[] scores, uint[][]? layers)
    {
        if (layers is null)
        {
            _interpreter.RunBatch(images, count, scores, new int[count]);
            return;
        }
        int bytes = m.InputHeight * m.InputWidth * m.InputChannels;
        for (int n = 0; n < count; n++)
        {
            uint[][] outputs = _interpreter.RunLayers(images.Slice(n * bytes, bytes));
            for (int l = 0; l < outputs.Length; l++)
            {
                int words = LayerWords(m, l);
                outputs[l].AsSpan(0, words).CopyTo(layers[l].AsSpan(n * words, words));
            }
            for (int c = 0; c < m.ClassCount; c++) scores[n * m.ClassCount + c] = (int)outputs[^1][c];
        }
    }
}

/// <summary>The GPU runtime with one kernel version; layers are downloaded from the device after each batch.</summary>
public sealed class GpuRuntime(GpuInterpreter gpu, KernelVersion version) : IntegerRuntime
{
    public override string Name => $"gpu ({gpu.Device.Name}, {version.Name()})";

    public override void Run(ReadOnlySpan<byte> images, int count, int[] scores, uint[][]? layers)
    {
        if (layers is null)
        {
            gpu.RunBatch(images, count, scores, new int[count], version);
            return;
        }
        uint[][] outputs = gpu.RunLayers(images, count, version);
        for (int l = 0; l < outputs.Length; l++) outputs[l].CopyTo(layers[l], 0);
        for (int i = 0; i < scores.Length; i++) scores[i] = (int)outputs[^1][i];
    }

    public override void Dispose()
    {
        gpu.Dispose();
        base.Dispose();
    }
}
