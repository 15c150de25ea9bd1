namespace Qnn.Format;

/// <summary>
/// The BNN paper's observation (section 5): a binary ConvNet repeats most of its filters (42 % unique in its
/// CIFAR-10 net), so an XNOR-popcount per unique filter, copied to its repeats, would do the work of the whole layer.
/// Found on the stored bit-planes (format/SPEC.md 1.3): two filters repeat when their words are equal; "up to sign"
/// also pairs a filter with its negation (every level v → −v, i.e. every valid bit complemented; for log weights,
/// SPEC 1.3, only the sign plane's), whose accumulator is the negated one (SPEC 1.4: acc = Σ w·a is linear in w, and
/// the bias lives in the per-channel thresholds, not in acc). The one home of this analysis: `qnn inspect` counts
/// with it and the fast path (Qnn.Runtime.Edge.Fast.FilterSharing) computes each unique filter once with it.
/// </summary>
public static class FilterRepetitions
{
    /// <summary>
    /// Whole filters (KH·KW·C) and, as the paper counts them, 2D kernels: the KH·KW slice of one filter on one input
    /// channel (at most 2^9 = 512 distinct binary 3 × 3 ones), each exact and up to sign.
    /// </summary>
    public sealed record Count(int Filters, int Unique, int UniqueUpToSign, int Kernels2D = 0, int UniqueKernels2D = 0, int UniqueKernels2DUpToSign = 0);

    /// <summary>
    /// Which filter each filter repeats, up to sign: filter f's accumulator is that of filter
    /// <c>Representatives[Source[f]]</c>, negated where <c>Negated[f]</c>. Representatives are the first filter of
    /// each class, in filter order (so filter 0 is always one, with Source 0).
    /// </summary>
    public sealed record Map(int[] Representatives, int[] Source, bool[] Negated)
    {
        /// <summary>Filters whose accumulator is computed: one per class of filters equal up to sign.</summary>
        public int Unique => Representatives.Length;
    }

    /// <summary>Whether a layer has filters (Dense or Conv2D with its weights loaded): the layers <see cref="Of"/> and <see cref="MapOf"/> read.</summary>
    public static bool HasFilters(LayerSpec l) => l.Kind != LayerKind.MaxPool2D && !l.IsSequenceLayer && l.Weights is not null;

    /// <summary>Null for a layer without filters.</summary>
    public static Count? Of(LayerSpec l)
    {
        if (!HasFilters(l)) return null;
        var exact = new HashSet<string>(StringComparer.Ordinal);
        var words = new uint[l.FilterWords];
        for (int f = 0; f < l.OutC; f++)
        {
            Array.Copy(l.Weights!, (long)f * words.Length, words, 0, words.Length);
            exact.Add(Key(words));
        }
        // 2D kernels: the bits of channel c at every (plane, ky, kx), words in the order [f][i][ky][kx][cw].
        int fw = l.FilterWords, cw = l.InChannelWords;
        int negatedPositions = l.WeightCode == WeightCode.Log ? l.KernelH * l.KernelW : l.WeightBits * l.KernelH * l.KernelW;
        var exact2 = new HashSet<string>(StringComparer.Ordinal);
        var signed2 = new HashSet<string>(StringComparer.Ordinal);
        int positions = l.WeightBits * l.KernelH * l.KernelW;
        var bits = new char[positions];
        var flipped = new char[positions];
        for (int f = 0; f < l.OutC; f++)
            for (int c = 0; c < l.InC; c++)
            {
                for (int p = 0; p < positions; p++)
                {
                    uint word = l.Weights![(long)f * fw + (long)p * cw + (c >> 5)];
                    bool one = ((word >> (c & 31)) & 1) != 0;
                    bits[p] = one ? '1' : '0';
                    flipped[p] = (p < negatedPositions) == one ? '0' : '1';
                }
                string key = new(bits), neg = new(flipped);
                exact2.Add(key);
                signed2.Add(string.CompareOrdinal(key, neg) <= 0 ? key : neg);
            }
        return new Count(l.OutC, exact.Count, MapOf(l)!.Unique, l.OutC * l.InC, exact2.Count, signed2.Count);
    }

    /// <summary>The filters equal up to sign, and which is which; null for a layer without filters.</summary>
    public static Map? MapOf(LayerSpec l)
    {
        if (!HasFilters(l)) return null;
        int fw = l.FilterWords;
        var classes = new Dictionary<string, int>(StringComparer.Ordinal);
        var representatives = new List<int>();
        var source = new int[l.OutC];
        var negatedFilter = new bool[l.OutC];
        var words = new uint[fw];
        var negated = new uint[fw];
        for (int f = 0; f < l.OutC; f++)
        {
            Array.Copy(l.Weights!, (long)f * fw, words, 0, fw);
            Negate(l, words, negated);
            string key = Key(words), neg = Key(negated);
            if (classes.TryGetValue(key, out int c)) source[f] = c;
            else if (classes.TryGetValue(neg, out c)) { source[f] = c; negatedFilter[f] = true; }
            else
            {
                source[f] = classes[key] = representatives.Count;
                representatives.Add(f);
            }
        }
        return new Map(representatives.ToArray(), source, negatedFilter);
    }

    /// <summary>
    /// The words of the negation of one filter of layer <paramref name="l"/> (every weight v → −v): odd levels
    /// (SPEC 1.1: w = 2q − (2^m − 1), so −w has code 2^m − 1 − q) complement every plane, log weights (1.3) only the
    /// sign plane, plane 0; bits past C in each position's last channel word stay 0.
    /// </summary>
    public static void Negate(LayerSpec l, ReadOnlySpan<uint> filter, Span<uint> negated)
    {
        int fw = l.FilterWords, cw = l.InChannelWords, tail = l.InC & 31;
        int negatedWords = l.WeightCode == WeightCode.Log ? l.KernelH * l.KernelW * cw : fw;
        for (int j = 0; j < fw; j++)
        {
            uint valid = j % cw == cw - 1 && tail != 0 ? (1u << tail) - 1 : uint.MaxValue;
            negated[j] = j < negatedWords ? ~filter[j] & valid : filter[j];
        }
    }

    private static string Key(uint[] words) => Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(words.AsSpan()));
}
