using System.Reflection;
using Qnn.Runtime.Gpu.Kernels;
using Qnn.Tests.Shared;

namespace Qnn.Runtime.Gpu.Tests;

/// <summary>Every inference kernel of the GPU runtime compiles to CUDA PTX for sm_90, without a GPU (see <see cref="PtxCompiler"/>).</summary>
public sealed class PtxCompileTests
{
    public static TheoryData<string> Kernels()
    {
        var data = new TheoryData<string>();
        foreach (var m in KernelMethods()) data.Add($"{m.DeclaringType!.Name}.{m.Name}");
        return data;
    }

    private static IEnumerable<MethodInfo> KernelMethods() => PtxCompiler.Kernels(typeof(XnorGemm1).Assembly, typeof(XnorGemm1).Namespace!, IsExplicit);

    /// <summary>The tiled versions take their group shape from a KernelConfig (GpuKernels.TileGrid).</summary>
    private static bool IsExplicit(MethodInfo m) => m.DeclaringType == typeof(XnorGemm2) || m.DeclaringType == typeof(XnorGemm3);

    [Fact]
    public void EveryKernelIsListed() => Assert.True(KernelMethods().Count() >= 12, $"{KernelMethods().Count()} kernels found: " + string.Join(", ", KernelMethods().Select(m => $"{m.DeclaringType!.Name}.{m.Name}")));

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CompilesForCuda(string name)
    {
        var method = KernelMethods().Single(m => $"{m.DeclaringType!.Name}.{m.Name}" == name);
        Assert.Contains(".entry", PtxCompiler.Compile(method, IsExplicit(method)));
    }
}
