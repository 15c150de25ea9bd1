namespace Qnn.Runtime.Edge.Tests;

/// <summary>Keeps a copy of every layer's output, to compare runtimes layer by layer.</summary>
public sealed class RecordingObserver : LayerObserver
{
    public readonly List<uint[]> Layers = [];

    public override void OnLayer(int layer, uint[] words, int wordCount)
    {
        Assert.Equal(Layers.Count, layer);
        Layers.Add(words.AsSpan(0, wordCount).ToArray());
    }
}
