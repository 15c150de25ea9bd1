using Qnn.Format;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Qnn.Runtime.Edge.Fast;

/// <summary>
/// The BNN paper's filter repetitions used (section 5; <see cref="FilterRepetitions"/> finds them): a layer whose
/// filters repeat, or negate one another, computes the accumulator of each unique filter once — a layer of its own,
/// <see cref="Unique"/>, run by the ordinary kernels — and copies it to its repeats, negated for a negation (SPEC 1.4:
/// acc = Σ w·a is linear in w; the bias and the flip are per channel in the thresholds, so only acc is shared and
/// every channel keeps its own thresholds, flip, shift and offset). Decided per layer at load time: only where the
/// unique filters take fewer of the kernel's units of work (blocks of 8 filters for the popcount kernels, a vector
/// of bytes' worth for <see cref="FirstConv"/>, one filter for <see cref="LogFilters"/>) than all of them; elsewhere the
/// layer runs as before and the copy costs nothing.
/// </summary>
public sealed class FilterSharing
{
    /// <summary>The representatives (first filter of each class) as a layer of their own, in filter order.</summary>
    public FastLayer Unique { get; }
    /// <summary>Per filter: its representative's index in <see cref="Unique"/>.</summary>
    private readonly int[] _source;
    /// <summary>Per filter: −1 where its accumulator is the negation of its representative's, else 0.</summary>
    private readonly int[] _negate;

    private FilterSharing(FastLayer unique, FilterRepetitions.Map map)
    {
        Unique = unique;
        _source = map.Source;
        _negate = map.Negated.Select(n => n ? -1 : 0).ToArray();
    }

    /// <summary>
    /// Filters one unit of work of the kernel that computes layer <paramref name="index"/> covers: filters computed
    /// together cost the same whether 1 or all of them are needed.
    /// </summary>
    public static int WorkUnit(LayerSpec l, int index) =>
        FirstConv.Applies(l, index) ? FirstConv.FilterChunk
        : l.WeightCode == WeightCode.Log ? 1
        : PopcountBlock.BlockFilters;

    /// <summary>Units of work the unique filters and all filters take, or null for a layer without filters.</summary>
    public static (int Unique, int All)? WorkUnits(LayerSpec l, int index)
    {
        var map = FilterRepetitions.MapOf(l);
        if (map is null) return null;
        int unit = WorkUnit(l, index);
        return ((map.Unique + unit - 1) / unit, (l.OutC + unit - 1) / unit);
    }

    /// <summary>The sharing of layer <paramref name="index"/>, or null where it would save no unit of work.</summary>
    public static FilterSharing? For(FastLayer layer, int index)
    {
        var l = layer.Spec;
        var map = FilterRepetitions.MapOf(l);
        if (map is null) return null;
        int unit = WorkUnit(l, index);
        if ((map.Unique + unit - 1) / unit >= (l.OutC + unit - 1) / unit) return null;
        return new FilterSharing(new FastLayer(Representatives(l, map.Representatives)), map);
    }

    /// <summary>
    /// acc[f] for every filter f &lt; OutC from the accumulators of the unique filters: a copy, or its negation
    /// ((u XOR −1) − (−1) = −u). Accumulators stay inside SPEC 4's bound, so −u never overflows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Expand(ReadOnlySpan<int> unique, Span<int> acc)
    {
        ref int u = ref MemoryMarshal.GetReference(unique);
        var source = _source;
        var negate = _negate;
        acc = acc[..source.Length];
        for (int f = 0; f < acc.Length; f++)
        {
            int n = negate[f];
            acc[f] = (Unsafe.Add(ref u, source[f]) ^ n) - n;
        }
    }

    /// <summary>
    /// A copy of layer <paramref name="l"/> with only the filters <paramref name="filters"/>: their weights, thresholds,
    /// flips, shifts and offsets, so that it is a valid layer the fast path prepares like any other.
    /// </summary>
    private static LayerSpec Representatives(LayerSpec l, int[] filters)
    {
        var copy = new LayerSpec();
        // Every field, so that a field added to LayerSpec later is carried without a change here.
        foreach (var field in typeof(LayerSpec).GetFields().Where(f => !f.IsLiteral && !f.IsInitOnly)) field.SetValue(copy, field.GetValue(l));
        int fw = l.FilterWords;
        copy.OutC = filters.Length;
        copy.Weights = new uint[filters.Length * fw];
        for (int k = 0; k < filters.Length; k++) Array.Copy(l.Weights!, (long)filters[k] * fw, copy.Weights, (long)k * fw, fw);
        if (l.Output == OutputKind.Thresholds)
        {
            int levels = l.Levels;
            copy.Thresholds = new int[filters.Length * levels];
            copy.Flip = new uint[(filters.Length + 31) >> 5];
            for (int k = 0; k < filters.Length; k++)
            {
                Array.Copy(l.Thresholds!, (long)filters[k] * levels, copy.Thresholds, (long)k * levels, levels);
                if (l.IsFlipped(filters[k])) copy.Flip[k >> 5] |= 1u << (k & 31);
            }
        }
        else
        {
            copy.Shifts = filters.Select(f => l.Shifts![f]).ToArray();
            copy.Offsets = filters.Select(f => l.Offsets![f]).ToArray();
        }
        return copy;
    }
}
