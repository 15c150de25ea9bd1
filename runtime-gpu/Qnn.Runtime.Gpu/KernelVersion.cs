namespace Qnn.Runtime.Gpu;

/// <summary>
/// The kernel versions that run a layer, kept side by side (llm.c style) and each validated against the
/// portable interpreter before it is timed.
/// </summary>
public enum KernelVersion
{
    /// <summary>The paper's baseline: one thread per output, ±1 as floats (<see cref="Kernels.FloatBaseline"/>).</summary>
    FloatBaseline,
    /// <summary>cuBLAS SGEMM over the same float matrices, reached through ILGPU.Algorithms; CUDA only.</summary>
    CuBlas,
    /// <summary>Naive XNOR-popcount, one thread per accumulator, 32-bit words (<see cref="Kernels.XnorGemm1"/>).</summary>
    XnorGemm1,
    /// <summary>Tiled in shared memory, 64-bit words, 4 × 4 outputs per thread (<see cref="Kernels.XnorGemm2"/>).</summary>
    XnorGemm2,
    /// <summary>Version 2 with the threshold-and-pack epilogue fused (<see cref="Kernels.XnorGemm3"/>).</summary>
    XnorGemm3,
}

public static class KernelVersions
{
    /// <summary>The version `verify` and `run` use: the fastest one.</summary>
    public const KernelVersion Default = KernelVersion.XnorGemm3;

    /// <summary>Short names for tables and --json.</summary>
    public static string Name(this KernelVersion v) => v switch
    {
        KernelVersion.FloatBaseline => "float-baseline",
        KernelVersion.CuBlas => "cublas-sgemm",
        KernelVersion.XnorGemm1 => "xnor1-naive",
        KernelVersion.XnorGemm2 => "xnor2-tiled",
        KernelVersion.XnorGemm3 => "xnor3-tiled-fused",
        _ => v.ToString(),
    };

    /// <summary>Parses a --kernel value: a full name above or its short form (float, cublas, xnor1, xnor2, xnor3).</summary>
    public static KernelVersion Parse(string text)
    {
        foreach (KernelVersion v in Enum.GetValues<KernelVersion>())
            if (string.Equals(text, v.Name(), StringComparison.OrdinalIgnoreCase) || string.Equals(text, v.Name().Split('-')[0], StringComparison.OrdinalIgnoreCase))
                return v;
        throw new NotSupportedException($"unknown kernel version \"{text}\": use {string.Join(", ", Enum.GetValues<KernelVersion>().Select(v => v.Name().Split('-')[0]))}");
    }

    public static bool IsFloat(this KernelVersion v) => v is KernelVersion.FloatBaseline or KernelVersion.CuBlas;
}
