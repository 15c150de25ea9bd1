using System.Reflection;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using Qnn.Trainer.Gpu.Kernels;

namespace Qnn.Trainer.Gpu.Tests;

/// <summary>
/// Every kernel of the trainer's ILGPU backend compiles to CUDA PTX, without a GPU. The CPU accelerator runs a
/// kernel's .NET code as it is, so it would accept what CUDA cannot (a call that may throw, a managed object); this
/// compiles each entry point with ILGPU's PTX backend for Hopper (sm_90, the H100/H200 of the device script).
/// </summary>
public sealed class PtxCompileTests
{
    public static TheoryData<string> Kernels()
    {
        var data = new TheoryData<string>();
        foreach (var m in KernelMethods()) data.Add($"{m.DeclaringType!.Name}.{m.Name}");
        return data;
    }

    private static IEnumerable<MethodInfo> KernelMethods() =>
        typeof(TrainGemm).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(TrainGemm).Namespace && t.IsAbstract && t.IsSealed)   // static classes
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.ReturnType == typeof(void) && (IsExplicit(m) || m.GetParameters() is [{ ParameterType: var p }, ..] && (p == typeof(Index1D) || p == typeof(Index2D))));

    /// <summary>The explicitly grouped kernels (launched with a KernelConfig).</summary>
    private static bool IsExplicit(MethodInfo m) => m.DeclaringType == typeof(TrainGemm) && m.Name == nameof(TrainGemm.Kernel);

    [Fact]
    public void EveryKernelIsListed() => Assert.True(KernelMethods().Count() >= 26, $"{KernelMethods().Count()} kernels found");

    [Theory]
    [MemberData(nameof(Kernels))]
    public void CompilesForCuda(string name)
    {
        var method = KernelMethods().Single(m => $"{m.DeclaringType!.Name}.{m.Name}" == name);
        // As GpuDevice opens it: the Algorithms library supplies Math.Exp and Math.Log (the softmax loss) on CUDA.
        using var context = Context.Create(b => b.Cuda().CPU().EnableAlgorithms());
        var arch = CudaArchitecture.SM_90;
        using var backend = new PTXBackend(context, new CudaCapabilityContext(arch), arch, CudaInstructionSet.ISA_80, null);
        var entry = IsExplicit(method)
            ? EntryPointDescription.FromExplicitlyGroupedKernel(method)
            : EntryPointDescription.FromImplicitlyGroupedKernel(method);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty);
        Assert.Contains(".entry", compiled.PTXAssembly);
    }
}
