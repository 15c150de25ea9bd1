using Qnn.Format;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Qnn.Runtime.Edge.Fast;

/// <summary>
/// The BNN paper's filter repetitions used (section 5; <see cref="FilterRepetitions"/> finds them): a layer whose
/// filters repeat, or negate one another, computes the accumulator of each unique filter once — a layer of its own,
/// <see cref="Unique"/>, run by the ordinary kernels — and copies it to its repeats, negated for a negation (SPEC 1.4:
/// acc = Σ w·a is linear in w; the bias and the flip are per channel in the thresholds, so only acc is shared and
/// every channel keeps its own thresholds, flip, shift and offset). Decided per layer at load time: only where the
/// unique filters take fewer of the kernel's units of work (blocks of 8 filters for the popcount kernels, a vector
/// of bytes' worth for <see cref="FirstConv"/>, one filter for <see cref="LogFilters"/>) than all of them, and the
/// popcounts saved outweigh the copies (<see cref="MinSavedWordsPerCopy"/>); elsewhere the layer runs as before and
/// sharing costs nothing.
/// </summary>
public sealed class FilterSharing
{
    /// <summary>The representatives (first filter of each class) as a layer of their own, in filter order.</summary>
    public FastLayer Unique { get; }
    /// <summary>Per filter: its representative's index in <see cref="Unique"/>.</summary>
    private readonly int[] _source;
    /// <summary>Per filter: −1 where its accumulator is the negation of its representative's, else 0.</summary>
    private readonly int[] _negate;
    private readonly int _filters;

    private FilterSharing(FastLayer unique, FilterRepetitions.Map map)
    {
        Unique = unique;
        // Padded to whole vectors of 16 (lanes past F read filter 0 and land in the accumulators' padding).
        int padded = (map.Source.Length + 15) & ~15;
        _source = new int[padded];
        _negate = new int[padded];
        map.Source.CopyTo(_source, 0);
        for (int f = 0; f < map.Negated.Length; f++) _negate[f] = map.Negated[f] ? -1 : 0;
        _filters = map.Source.Length;
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

    /// <summary>
    /// Popcount words a shared layer must save per row for each filter it copies. Measured (trainer/README.md, filter
    /// repetitions): a conv that saved 2.5 words per copy ran 9 % slower shared (its bit patch and pooling cost the
    /// same, and the copies more than the popcounts they replaced), a dense layer that saved 27 ran 38 % faster.
    /// </summary>
    public const int MinSavedWordsPerCopy = 8;

    /// <summary>
    /// Whether the fast path shares the filters of layer <paramref name="index"/>: only where that saves a unit of work
    /// and, past the first layer, enough popcount words for the copies (the first layer saves a pass over every lit
    /// tap per weight plane for each vector of filters it drops).
    /// </summary>
    private static bool Pays(LayerSpec l, int index, FilterRepetitions.Map map)
    {
        int unit = WorkUnit(l, index);
        int saved = ((l.OutC + unit - 1) / unit - (map.Unique + unit - 1) / unit) * unit;
        if (saved <= 0) return false;
        if (FirstConv.Applies(l, index)) return true;
        long patchWords = ((long)l.KernelH * l.KernelW * l.InC + 63) >> 6;
        int weightPlanes = l.WeightCode == WeightCode.Log ? l.LogExponents : l.WeightBits;
        return saved * patchWords * weightPlanes * l.InputBits >= (long)MinSavedWordsPerCopy * l.OutC;
    }

    /// <summary>The filters the fast path computes for layer <paramref name="index"/>: the unique ones where it shares, else all (0 without filters).</summary>
    public static int ComputedFilters(LayerSpec l, int index) =>
        FilterRepetitions.MapOf(l) is { } map ? (Pays(l, index, map) ? map.Unique : l.OutC) : 0;

    /// <summary>The sharing of layer <paramref name="index"/>, or null where it would save no unit of work.</summary>
    public static FilterSharing? For(FastLayer layer, int index)
    {
        var l = layer.Spec;
        var map = FilterRepetitions.MapOf(l);
        if (map is null || !Pays(l, index, map)) return null;
        return new FilterSharing(new FastLayer(Representatives(l, map.Representatives)), map);
    }

    /// <summary>
    /// acc[f] for every filter f &lt; OutC from the accumulators of the unique filters: a copy, or its negation
    /// ((u XOR −1) − (−1) = −u). Accumulators stay inside SPEC 4's bound, so −u never overflows. 8 filters an AVX2 gather
    /// (.NET has no 512-bit gather); acc must hold OutC rounded up to 16, and lanes past OutC are scratch.
    /// </summary>
    public unsafe void Expand(ReadOnlySpan<int> unique, Span<int> acc)
    {
        if (acc.Length < _source.Length || unique.Length < 1) throw new ArgumentException("acc must hold OutC rounded up to 16");
        fixed (int* u = unique, source = _source, negate = _negate, a = acc)
        {
            if (Avx2.IsSupported)
            {
                for (int f = 0; f < _source.Length; f += 8)
                {
                    var n = Avx.LoadVector256(negate + f);
                    Avx.Store(a + f, Avx2.Subtract(Avx2.Xor(Avx2.GatherVector256(u, Avx.LoadVector256(source + f), 4), n), n));
                }
                return;
            }
            for (int f = 0; f < _filters; f++) a[f] = (u[source[f]] ^ negate[f]) - negate[f];
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
