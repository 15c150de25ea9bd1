using System;
using Qnn.Format;

namespace Qnn.Runtime.Edge
{
    /// <summary>
    /// Standalone MaxPool2D (SPEC 1.8): the maximum level per channel over each window, 32 channels at a time on
    /// the bit-planes. For one bit it is the OR of the words; for k bits a bit-sliced compare from the top plane
    /// down finds, per channel, whether the candidate is greater, and selects it.
    /// </summary>
    public static class MaxPoolLevels
    {
        public static void Run(LayerSpec l, LayerGeometry g, uint[] input, uint[] output)
        {
            int cw = g.InChannelWords;
            int pixelWords = g.InPixelWords;
            int topPlane = pixelWords - cw;
            int outPixel = 0;
            int rowOrigin = 0;
            for (int py = 0; py < l.OutH; py++)
            {
                int origin = rowOrigin;
                for (int px = 0; px < l.OutW; px++)
                {
                    Array.Copy(input, origin, output, outPixel, pixelWords);
                    int row = origin;
                    for (int dy = 0; dy < l.PoolH; dy++)
                    {
                        int at = row;
                        for (int dx = 0; dx < l.PoolW; dx++)
                        {
                            if (dy != 0 || dx != 0)
                            {
                                if (l.InputBits == 1)
                                {
                                    for (int w = 0; w < cw; w++) output[outPixel + w] |= input[at + w];
                                }
                                else
                                {
                                    for (int w = 0; w < cw; w++) Merge(output, outPixel + w, input, at + w, topPlane, cw);
                                }
                            }
                            at += pixelWords;
                        }
                        row += g.PoolRowWords;
                    }
                    outPixel += pixelWords;
                    origin += g.PoolColumnStep;
                }
                rowOrigin += g.PoolRowStep;
            }
        }

        /// <summary>
        /// Per channel bit, replaces the level in <paramref name="best"/> by the one in <paramref name="candidate"/>
        /// where the candidate is greater. Planes lie <paramref name="planeWords"/> apart; the top plane at +topPlane.
        /// </summary>
        public static void Merge(uint[] best, int bestAt, uint[] candidate, int candidateAt, int topPlane, int planeWords)
        {
            uint greater = 0, equal = 0xFFFFFFFFu;
            for (int j = topPlane; j >= 0; j -= planeWords)
            {
                uint a = best[bestAt + j], b = candidate[candidateAt + j];
                greater |= equal & b & ~a;
                equal &= ~(a ^ b);
            }
            if (greater == 0) return;
            for (int j = topPlane; j >= 0; j -= planeWords)
            {
                uint a = best[bestAt + j], b = candidate[candidateAt + j];
                best[bestAt + j] = (a & ~greater) | (b & greater);
            }
        }
    }
}
