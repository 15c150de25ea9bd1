namespace Qnn.Runtime.Edge.Fast;

/// <summary>
/// Work counted as each runtime's kernels compute it. In 1-bit multiply-accumulates: a layer's MACs
/// (<see cref="LayerSpec.Macs"/>, the one definition) times weight bits times input bits, since an m-bit × k-bit
/// product is m·k bit-plane products (SPEC 1.4) — what the portable interpreter computes for every layer, and the fast
/// path for every layer past the first. The fast path's first layer (<see cref="FirstConv"/>) computes no XNOR-popcount:
/// it adds the 8-bit pixels under each weight bit, <see cref="FirstLayerAdds"/>, so its work is not binary MACs and is
/// not set against the popcount limit. Max-pool layers count none. Where the fast path computes each unique filter once
/// (<see cref="FilterSharing"/>), its counts are of the filters it computes, not of the layer's.
/// </summary>
public static class BinaryMacs
{
    public static long Of(LayerSpec l) => l.Macs * l.WeightBits * l.InputBits;

    /// <summary>The portable interpreter's work counted as bit-plane binary MACs for every layer (its first layer adds lit pixel bytes since 2026-12-02: a bit-plane-equivalent count there).</summary>
    public static long Of(QnnModel model) => model.Layers.Sum(Of);

    /// <summary>The fast path's XNOR-popcount binary MACs: every weighted layer but the first.</summary>
    public static long Popcount(QnnModel model) => model.Layers.Select(Fast).Skip(1).Sum();

    /// <summary>The binary MACs the fast path computes for layer <paramref name="index"/>: those of its unique filters where it shares them.</summary>
    public static long Fast(LayerSpec l, int index) => l.Kind == LayerKind.MaxPool2D ? 0 : Of(l) / l.OutC * FilterSharing.ComputedFilters(l, index);

    /// <summary>
    /// The fast path's first-layer masked adds: one per tap, weight plane and filter (MACs · m), as many as the kernel
    /// does when every pixel is lit (it skips dark ones, so this is an upper bound of its work).
    /// </summary>
    public static long FirstLayerAdds(QnnModel model) =>
        model.Layers[0].Macs * model.Layers[0].WeightBits / model.Layers[0].OutC * FilterSharing.ComputedFilters(model.Layers[0], 0);
}
