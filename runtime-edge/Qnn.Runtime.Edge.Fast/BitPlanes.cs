namespace Qnn.Runtime.Edge.Fast;

/// <summary>
/// The first layer's input bit-planes (SPEC 1.1, 1.2, 1.9), as the portable <see cref="InputPlanes"/> writes them,
/// without branches on pixel bits: the portable loop stops at the highest set bit, which on a desktop CPU costs a
/// mispredicted branch on most pixels, more than the whole first dense layer of a small MLP.
/// </summary>
public static class BitPlanes
{
    public static void Write(ReadOnlySpan<byte> image, int inputBits, int channels, int channelWords, Span<uint> words)
    {
        int shift = 8 - inputBits, pixelWords = inputBits * channelWords;
        int pixels = image.Length / channels;
        words[..(pixels * pixelWords)].Clear();
        for (int p = 0, at = 0, start = 0; p < pixels; p++, start += pixelWords)
            for (int c = 0; c < channels; c++, at++)
            {
                uint value = (uint)(image[at] >> shift);
                int word = start + (c >> 5), bit = c & 31;
                for (int j = 0; j < inputBits; j++, word += channelWords)
                    words[word] |= ((value >> j) & 1u) << bit;
            }
    }
}
