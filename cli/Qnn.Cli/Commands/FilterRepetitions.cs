using Qnn.Format;

namespace Qnn.Cli.Commands;

/// <summary>
/// The BNN paper's observation (section 5): a binary ConvNet repeats most of its filters (42 % unique in its
/// CIFAR-10 net), so an XNOR-popcount per unique filter, copied to its repeats, would do the work of the whole layer.
/// Counted on the stored bit-planes (format/SPEC.md 1.3): two filters repeat when their words are equal; "up to sign"
/// also pairs a filter with its negation (every level v → −v, i.e. every valid bit complemented), whose accumulator
/// is the negated one. Inspection only: no runtime uses it yet.
/// </summary>
public static class FilterRepetitions
{
    /// <summary>
    /// Whole filters (KH·KW·C) and, as the paper counts them, 2D kernels: the KH·KW slice of one filter on one input
    /// channel (at most 2^9 = 512 distinct binary 3 × 3 ones), each exact and up to sign.
    /// </summary>
    public sealed record Count(int Filters, int Unique, int UniqueUpToSign, int Kernels2D = 0, int UniqueKernels2D = 0, int UniqueKernels2DUpToSign = 0);

    /// <summary>Null for a layer without weights.</summary>
    public static Count? Of(LayerSpec l)
    {
        if (l.Kind == LayerKind.MaxPool2D || l.IsSequenceLayer || l.Weights is null) return null;
        int fw = l.FilterWords, cw = l.InChannelWords, tail = l.InC & 31;
        var exact = new HashSet<string>(StringComparer.Ordinal);
        var signed = new HashSet<string>(StringComparer.Ordinal);
        var words = new uint[fw];
        var negated = new uint[fw];
        for (int f = 0; f < l.OutC; f++)
        {
            Array.Copy(l.Weights, (long)f * fw, words, 0, fw);
            for (int j = 0; j < fw; j++)
            {
                // Bits past C in each position's last channel word are 0 (SPEC 1.3) and stay 0.
                uint valid = j % cw == cw - 1 && tail != 0 ? (1u << tail) - 1 : uint.MaxValue;
                negated[j] = ~words[j] & valid;
            }
            string key = Key(words), neg = Key(negated);
            exact.Add(key);
            signed.Add(string.CompareOrdinal(key, neg) <= 0 ? key : neg);
        }
        // 2D kernels: the bits of channel c at every (plane, ky, kx), words in the order [f][i][ky][kx][cw].
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
                    uint word = l.Weights[(long)f * fw + (long)p * cw + (c >> 5)];
                    bool one = ((word >> (c & 31)) & 1) != 0;
                    bits[p] = one ? '1' : '0';
                    flipped[p] = one ? '0' : '1';
                }
                string key = new(bits), neg = new(flipped);
                exact2.Add(key);
                signed2.Add(string.CompareOrdinal(key, neg) <= 0 ? key : neg);
            }
        return new Count(l.OutC, exact.Count, signed.Count, l.OutC * l.InC, exact2.Count, signed2.Count);
    }

    private static string Key(uint[] words) => Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(words.AsSpan()));
}
