namespace Qnn.Trainer.Export;

/// <summary>Weight levels to the bit-plane words of format/SPEC.md 1.3.</summary>
public static class WeightPacking
{
    /// <summary>
    /// Packs levels q[f][(ky·KW + kx)·C + c] ∈ {0 … 2^m − 1} into words [f][i][ky][kx][cw]: bit i of q to plane i,
    /// channel c to bit c mod 32 of word c / 32; padding bits stay 0.
    /// </summary>
    public static uint[] Pack(ReadOnlySpan<int> levels, int filters, int kh, int kw, int channels, int bits)
    {
        int cw = (channels + 31) >> 5;
        int patch = kh * kw * channels;
        var words = new uint[filters * bits * kh * kw * cw];
        for (int f = 0; f < filters; f++)
            for (int i = 0; i < bits; i++)
                for (int pos = 0; pos < kh * kw; pos++)
                {
                    int wordBase = ((f * bits + i) * kh * kw + pos) * cw;
                    int src = f * patch + pos * channels;
                    for (int c = 0; c < channels; c++)
                        if (((levels[src + c] >> i) & 1) != 0) words[wordBase + (c >> 5)] |= 1u << (c & 31);
                }
        return words;
    }
}
