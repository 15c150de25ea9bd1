using Qnn.Format;

namespace Qnn.Runtime.Edge.Tests;

/// <summary>
/// format/SPEC.md read literally, with ordinary integer arithmetic on values (no bit tricks): the b-bit values
/// v = 2q − (2^b − 1), unsigned pixels p, padding at the lowest level, acc = Σ w·a over the window, pool, then
/// thresholds or scores. The interpreter's popcount formulation must give the same integers.
/// </summary>
public static class SpecOracle
{
    /// <summary>Every layer's output as the observer sees it (SPEC 1.2 words, or scores cast to uint).</summary>
    public static List<uint[]> Run(QnnModel model, byte[] image)
    {
        var outputs = new List<uint[]>();
        int h = model.InputHeight, w = model.InputWidth, c = model.InputChannels;
        int[] levels = image.Select(p => p >> (8 - model.InputBits)).ToArray();
        foreach (var l in model.Layers)
        {
            int[] next;
            if (l.Kind == LayerKind.MaxPool2D)
            {
                next = new int[l.OutH * l.OutW * l.OutC];
                for (int py = 0; py < l.OutH; py++)
                for (int px = 0; px < l.OutW; px++)
                for (int ch = 0; ch < l.OutC; ch++)
                {
                    int best = int.MinValue;
                    for (int dy = 0; dy < l.PoolH; dy++)
                    for (int dx = 0; dx < l.PoolW; dx++)
                        best = Math.Max(best, levels[((py * l.PoolStrideH + dy) * w + px * l.PoolStrideW + dx) * c + ch]);
                    next[(py * l.OutW + px) * l.OutC + ch] = best;
                }
                outputs.Add(Pack(next, l.OutH, l.OutW, l.OutC, l.OutputBits));
            }
            else
            {
                int ch = l.ConvOutH, cwid = l.ConvOutW;
                var acc = new int[ch * cwid * l.OutC];
                for (int oy = 0; oy < ch; oy++)
                for (int ox = 0; ox < cwid; ox++)
                for (int f = 0; f < l.OutC; f++)
                    acc[(oy * cwid + ox) * l.OutC + f] = Accumulator(l, levels, oy, ox, f);
                if (l.PoolH > 0)
                {
                    var pooled = new int[l.OutH * l.OutW * l.OutC];
                    for (int py = 0; py < l.OutH; py++)
                    for (int px = 0; px < l.OutW; px++)
                    for (int f = 0; f < l.OutC; f++)
                    {
                        int best = int.MinValue;
                        for (int dy = 0; dy < l.PoolH; dy++)
                        for (int dx = 0; dx < l.PoolW; dx++)
                            best = Math.Max(best, acc[((py * l.PoolStrideH + dy) * cwid + px * l.PoolStrideW + dx) * l.OutC + f]);
                        pooled[(py * l.OutW + px) * l.OutC + f] = best;
                    }
                    acc = pooled;
                }
                if (l.Output == OutputKind.Scores)
                {
                    var scores = new uint[l.OutC];
                    for (int f = 0; f < l.OutC; f++) scores[f] = (uint)((acc[f] << l.Shifts![f]) + l.Offsets![f]);
                    outputs.Add(scores);
                    next = acc;
                }
                else
                {
                    next = new int[acc.Length];
                    int levelsPer = l.Levels;
                    for (int i = 0; i < acc.Length; i++)
                    {
                        int f = i % l.OutC;
                        bool flip = l.IsFlipped(f);
                        int q = 0;
                        for (int t = 0; t < levelsPer; t++)
                        {
                            int th = l.Thresholds![f * levelsPer + t];
                            if (flip ? acc[i] <= th : acc[i] >= th) q++;
                        }
                        next[i] = q;
                    }
                    outputs.Add(Pack(next, l.OutH, l.OutW, l.OutC, l.OutputBits));
                }
            }
            levels = next;
            h = l.OutH; w = l.OutW; c = l.OutC;
        }
        return outputs;
    }

    /// <summary>The predicted class from the oracle's scores: lowest index among the highest.</summary>
    public static int Predict(uint[] scores)
    {
        int best = 0;
        for (int i = 1; i < scores.Length; i++) if ((int)scores[i] > (int)scores[best]) best = i;
        return best;
    }

    private static int Accumulator(LayerSpec l, int[] levels, int oy, int ox, int f)
    {
        int cw = (l.InC + 31) / 32;
        int lowest = l.InputSigned ? -((1 << l.InputBits) - 1) : 0;
        int sum = 0;
        for (int ky = 0; ky < l.KernelH; ky++)
        for (int kx = 0; kx < l.KernelW; kx++)
        {
            int iy = oy * l.StrideH - l.PadTop + ky, ix = ox * l.StrideW - l.PadLeft + kx;
            bool inside = iy >= 0 && iy < l.InH && ix >= 0 && ix < l.InW;
            for (int c = 0; c < l.InC; c++)
            {
                int a = lowest;
                if (inside)
                {
                    int q = levels[(iy * l.InW + ix) * l.InC + c];
                    a = l.InputSigned ? 2 * q - ((1 << l.InputBits) - 1) : q;
                }
                int qw = 0;
                for (int i = 0; i < l.WeightBits; i++)
                {
                    uint word = l.Weights![(((f * l.WeightBits + i) * l.KernelH + ky) * l.KernelW + kx) * cw + c / 32];
                    qw |= (int)((word >> (c % 32)) & 1u) << i;
                }
                // SPEC 1.1 odd level, or 1.3 log weight: plane 0 the sign, planes 1 … m − 1 the exponent e, w = ±2^e.
                int wv = l.WeightCode == WeightCode.Log
                    ? ((qw & 1) == 1 ? 1 : -1) * (int)Math.Pow(2, qw >> 1)
                    : 2 * qw - ((1 << l.WeightBits) - 1);
                sum += wv * a;
            }
        }
        return sum;
    }

    /// <summary>Levels [y][x][c] packed as SPEC 1.2 words.</summary>
    public static uint[] Pack(int[] levels, int h, int w, int c, int bits)
    {
        int cw = (c + 31) / 32;
        var words = new uint[h * w * bits * cw];
        for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
        for (int ch = 0; ch < c; ch++)
        {
            int q = levels[(y * w + x) * c + ch];
            for (int j = 0; j < bits; j++)
                if (((q >> j) & 1) != 0) words[((y * w + x) * bits + j) * cw + ch / 32] |= 1u << (ch % 32);
        }
        return words;
    }
}
