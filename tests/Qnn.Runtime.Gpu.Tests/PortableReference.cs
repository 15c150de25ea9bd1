using Qnn.Format;
using Qnn.Runtime.Edge;

namespace Qnn.Runtime.Gpu.Tests;

/// <summary>Every layer's output of the portable interpreter (the reference), in the layout of GpuInterpreter.RunLayers.</summary>
public static class PortableReference
{
    private sealed class Capture(uint[][] layers, int sample, Func<int, int> words) : LayerObserver
    {
        public override void OnLayer(int layer, uint[] output, int wordCount)
        {
            Assert.Equal(words(layer), wordCount);
            Array.Copy(output, 0, layers[layer], sample * wordCount, wordCount);
        }
    }

    public static uint[][] RunLayers(QnnModel model, byte[] images, int count)
    {
        int bytes = model.InputHeight * model.InputWidth * model.InputChannels;
        int Words(int l) => l == model.Layers.Length - 1 ? model.ClassCount : model.Layers[l].OutputWords;
        var layers = new uint[model.Layers.Length][];
        for (int l = 0; l < layers.Length; l++) layers[l] = new uint[count * Words(l)];
        var interpreter = new Interpreter(model);
        var scores = new int[model.ClassCount];
        for (int n = 0; n < count; n++)
        {
            interpreter.Observer = new Capture(layers, n, Words);
            interpreter.Run(images.AsSpan(n * bytes, bytes).ToArray(), scores);
        }
        return layers;
    }
}
