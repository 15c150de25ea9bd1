namespace Qnn.Format;

/// <summary>
/// Builds layer records with their derived fields (output shapes, kernel of a dense layer) filled in per
/// SPEC 1.4–1.8, so that the trainer's export and the tests describe layers the same way.
/// </summary>
public static class LayerFactory
{
    /// <summary>A dense layer over an H×W×C input (the conv whose kernel is the whole input).</summary>
    public static LayerSpec Dense(int inH, int inW, int inC, int outC, int weightBits, int inputBits, bool inputSigned,
        OutputKind output, int outputBits) => new()
    {
        Kind = LayerKind.Dense, WeightBits = weightBits, InputBits = inputBits, InputSigned = inputSigned,
        Output = output, OutputBits = output == OutputKind.Scores ? 0 : outputBits,
        InH = inH, InW = inW, InC = inC, OutH = 1, OutW = 1, OutC = outC,
        KernelH = inH, KernelW = inW, StrideH = 1, StrideW = 1,
    };

    /// <summary>A 2-D convolution, optionally with a max-pool fused on its accumulators (pool 0 = none).</summary>
    public static LayerSpec Conv2D(int inH, int inW, int inC, int outC, int kernelH, int kernelW, int stride, int pad,
        int weightBits, int inputBits, bool inputSigned, OutputKind output, int outputBits, int pool = 0, int poolStride = 0)
    {
        var l = new LayerSpec
        {
            Kind = LayerKind.Conv2D, WeightBits = weightBits, InputBits = inputBits, InputSigned = inputSigned,
            Output = output, OutputBits = output == OutputKind.Scores ? 0 : outputBits,
            InH = inH, InW = inW, InC = inC, OutC = outC, KernelH = kernelH, KernelW = kernelW,
            StrideH = stride, StrideW = stride, PadTop = pad, PadLeft = pad, PadBottom = pad, PadRight = pad,
        };
        l.OutH = l.ConvOutH;
        l.OutW = l.ConvOutW;
        if (pool > 0)
        {
            int s = poolStride > 0 ? poolStride : pool;
            l.PoolH = l.PoolW = pool;
            l.PoolStrideH = l.PoolStrideW = s;
            l.OutH = (l.OutH - pool) / s + 1;
            l.OutW = (l.OutW - pool) / s + 1;
        }
        return l;
    }

    /// <summary>A standalone max-pool over k-bit activation levels.</summary>
    public static LayerSpec MaxPool2D(int inH, int inW, int inC, int bits, int pool, int poolStride = 0)
    {
        int s = poolStride > 0 ? poolStride : pool;
        return new LayerSpec
        {
            Kind = LayerKind.MaxPool2D, WeightBits = 0, InputBits = bits, InputSigned = true,
            Output = OutputKind.PooledActivations, OutputBits = bits,
            InH = inH, InW = inW, InC = inC, OutC = inC,
            PoolH = pool, PoolW = pool, PoolStrideH = s, PoolStrideW = s,
            OutH = (inH - pool) / s + 1, OutW = (inW - pool) / s + 1,
            KernelH = 0, KernelW = 0, StrideH = 0, StrideW = 0,
        };
    }

    /// <summary>
    /// An Embedding (SPEC 1.10, 2.4): layer 0 of a sequence model, a one-hot token of <paramref name="vocabulary"/>
    /// bits in, a row of <paramref name="embed"/> channels of <paramref name="bits"/> (k) planes out.
    /// </summary>
    public static LayerSpec Embedding(int vocabulary, int embed, int bits) => new()
    {
        Kind = LayerKind.Embedding, WeightBits = bits, InputBits = 1, InputSigned = false,
        Output = OutputKind.Levels, OutputBits = bits,
        InH = 1, InW = 1, InC = vocabulary, OutH = 1, OutW = 1, OutC = embed, KernelH = 1, KernelW = 1,
    };

    /// <summary>An LSTM of <paramref name="hidden"/> units over <paramref name="inputs"/> channels of k-bit levels (SPEC 1.10).</summary>
    public static LayerSpec Lstm(int inputs, int hidden, int weightBits, int bits, int gateBits, int cellBits) =>
        Recurrent(LayerKind.Lstm, inputs, hidden, weightBits, bits, gateBits, cellBits);

    /// <summary>A GRU of <paramref name="hidden"/> units over <paramref name="inputs"/> channels of k-bit levels (SPEC 1.10).</summary>
    public static LayerSpec Gru(int inputs, int hidden, int weightBits, int bits, int gateBits) =>
        Recurrent(LayerKind.Gru, inputs, hidden, weightBits, bits, gateBits, 0);

    private static LayerSpec Recurrent(LayerKind kind, int inputs, int hidden, int weightBits, int bits, int gateBits, int cellBits) => new()
    {
        Kind = kind, WeightBits = weightBits, InputBits = bits, InputSigned = true, Output = OutputKind.Levels, OutputBits = bits,
        GateBits = gateBits, CellBits = cellBits,
        InH = 1, InW = 1, InC = inputs, OutH = 1, OutW = 1, OutC = hidden, KernelH = 1, KernelW = 1,
    };
}
