namespace Qnn.Runtime.Gpu.Kernels;

/// <summary>
/// The sizes a kernel needs, passed by value (ILGPU kernel parameters must be unmanaged structs). Batches are
/// sample after sample, each sample's activation tensor in the SPEC 1.2 layout.
/// </summary>
public struct InputShape
{
    public int Pixels;      // N · H · W
    public int Channels;    // C
    public int ChannelWords;// ceil(C / 32)
    public int Bits;        // input bits n; pixels are shifted by 8 − n (SPEC 1.9)
}

/// <summary>One Dense or Conv2D layer over a batch (a Dense layer is the conv whose kernel is its whole input, SPEC 1.4).</summary>
public struct ConvShape
{
    public int InH, InW, InC, InCW, InPlanes, InWords;  // per sample
    public int ConvH, ConvW;                             // output before the fused pool
    public int KH, KW, SH, SW, PadTop, PadLeft;
    public int Signed;                                   // 1: ±1 planes (XOR); 0: unsigned input planes (SPEC 1.4)
    public int K32;                                      // 32-bit words of one plane row: KH · KW · CW
    public int K64;                                      // 64-bit words of one plane row: ceil(K32 / 2)
    public int Rows;                                     // N · ConvH · ConvW, the GEMM's rows
}

/// <summary>The binary GEMM of one layer: Rows × Filters accumulators from plane rows of K64 words.</summary>
public struct GemmShape
{
    public int Rows, Filters, K64;
    public int InPlanes, WeightPlanes;
    public int Signed;
    /// <summary>KH · KW · C, the ±1 dot product's length: a signed D = Kc − 2 · popcount(A XOR W).</summary>
    public int Kc;
    /// <summary>Log weights (SPEC 1.3): E = 2^(m−1) exponents, for <see cref="LogGemm"/>; 0 for odd levels.</summary>
    public int Exponents;
}

/// <summary>Thresholds and packing of accumulators into k-bit levels (SPEC 1.6).</summary>
public struct ThresholdShape
{
    public int Rows;          // output pixels of the batch
    public int Filters;       // F
    public int Levels;        // L = 2^k − 1
    public int OutBits;       // k
    public int OutCW;         // ceil(F / 32)
}

/// <summary>A max-pool window: fused on accumulators (SPEC 1.5) or standalone on levels (SPEC 1.8).</summary>
public struct PoolShape
{
    public int Samples;
    public int InH, InW, OutH, OutW;
    public int PoolH, PoolW, StrideH, StrideW;
    public int Channels;      // F for accumulators, C for levels
    public int ChannelWords;  // levels only: ceil(C / 32)
    public int Bits;          // levels only: planes
}
