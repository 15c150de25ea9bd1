using System;

namespace Qnn.Runtime.Edge
{
    /// <summary>
    /// Turns an image of 8-bit pixels into the first layer's input tensor: each pixel shifted to the model's input
    /// bits (p >> (8 − n), SPEC 1.9) and split into n bit-planes of 0/1 bits, channels innermost (SPEC 1.1, 1.2).
    /// </summary>
    public static class InputPlanes
    {
        /// <summary>
        /// Writes the planes of <paramref name="image"/> (H·W·C bytes) into the first <paramref name="totalWords"/>
        /// of <paramref name="words"/>; <paramref name="pixelWords"/> = bits · ceil(C / 32).
        /// </summary>
        public static void Write(byte[] image, int shift, int channels, int channelWords, int pixelWords, uint[] words, int totalWords)
        {
            Array.Clear(words, 0, totalWords);
            int at = 0;
            for (int pixelStart = 0; pixelStart < totalWords; pixelStart += pixelWords)
            {
                for (int c = 0; c < channels; c++)
                {
                    int value = image[at++] >> shift;
                    int word = pixelStart + (c >> 5);
                    uint bit = 1u << (c & 31);
                    while (value != 0)
                    {
                        if ((value & 1) != 0) words[word] |= bit;
                        value >>= 1;
                        word += channelWords;
                    }
                }
            }
        }
    }
}
