using System.Reflection;
using Qnn.Tests.Shared;
using Qnn.Trainer.Gpu.Kernels;

namespace Qnn.Trainer.Gpu.Tests;

/// <summary>Every kernel of the trainer's ILGPU backend compiles to CUDA PTX for sm_90, without a GPU (see <see cref="PtxCompiler"/>).</summary>
public sealed class PtxCompileTests
{
    public static TheoryData<string> Kernels()
    {
        var data = new TheoryData<string>();
        foreach (var m in KernelMethods()) data.Add($"{m.DeclaringType!.Name}.{m.Name}");
        return data;
    }

    private static IEnumerable<MethodInfo> KernelMethods() => PtxCompiler.Kernels(typeof(TrainGemm).Assembly, typeof(TrainGemm).Namespace!, IsExplicit);

    /// <summary>The explicitly grouped kernels (launched with a KernelConfig).</summary>
    private static bool IsExplicit(MethodInfo m) => m.DeclaringType == typeof(TrainGemm) && m.Name == nameof(TrainGemm.Kernel);

    [Fact]
    public void EveryKernelIsListed() => Assert.True(KernelMethods().Count() >= 26, $"{KernelMethods().Count()} kernels found");

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CompilesForCuda(string name)
    {
        var method = KernelMethods().Single(m => $"{m.DeclaringType!.Name}.{m.Name}" == name);
        Assert.Contains(".entry", PtxCompiler.Compile(method, IsExplicit(method)));
    }
}
