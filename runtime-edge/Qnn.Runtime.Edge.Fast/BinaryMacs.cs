namespace Qnn.Runtime.Edge.Fast;

/// <summary>
/// Work counted in 1-bit multiply-accumulates: a layer's MACs (<see cref="LayerSpec.Macs"/>, the one definition)
/// times weight bits times input bits, since an m-bit × k-bit product is m·k bit-plane products (SPEC 1.4).
/// Max-pool layers count none.
/// </summary>
public static class BinaryMacs
{
    public static long Of(LayerSpec l) => l.Macs * l.WeightBits * l.InputBits;

    public static long Of(QnnModel model) => model.Layers.Sum(Of);
}
