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
    public sealed record Count(int Filters, int Unique, int UniqueUpToSign);

    /// <summary>Null for a layer without weights.</summary>
    public static Count? Of(LayerSpec l)
    {
        if (l.Kind == LayerKind.MaxPool2D || l.Weights is null) return null;
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
        return new Count(l.OutC, exact.Count, signed.Count);
    }

    private static string Key(uint[] words) => Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(words.AsSpan()));
}
