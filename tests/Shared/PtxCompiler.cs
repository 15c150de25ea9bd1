using System.Reflection;
using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;

namespace Qnn.Tests.Shared;

/// <summary>
/// Compiles one ILGPU kernel to CUDA PTX without a GPU, with ILGPU's PTX backend for Hopper (sm_90, the H100/H200
/// of the device check). The CPU accelerator runs a kernel's .NET code as it is, so it would accept what CUDA cannot
/// (a call that may throw, a managed object). Linked into the test projects of the ILGPU kernels.
/// </summary>
public static class PtxCompiler
{
    /// <summary>The PTX assembly of <paramref name="kernel"/>; explicitly grouped kernels take a KernelConfig when launched.</summary>
    public static string Compile(MethodInfo kernel, bool explicitlyGrouped)
    {
        // As GpuDevice opens it: the Algorithms library supplies Math.Exp and Math.Log (the softmax loss) on CUDA.
        using var context = Context.Create(b => b.Cuda().CPU().EnableAlgorithms());
        var arch = CudaArchitecture.SM_90;
        using var backend = new PTXBackend(context, new CudaCapabilityContext(arch), arch, CudaInstructionSet.ISA_80, null);
        var entry = explicitlyGrouped
            ? EntryPointDescription.FromExplicitlyGroupedKernel(kernel)
            : EntryPointDescription.FromImplicitlyGroupedKernel(kernel);
        return ((PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty)).PTXAssembly;
    }

    /// <summary>The public static kernels of the static classes in <paramref name="ns"/>: void, first parameter an index, or <paramref name="isExplicit"/>.</summary>
    public static IEnumerable<MethodInfo> Kernels(Assembly assembly, string ns, Func<MethodInfo, bool> isExplicit) =>
        assembly.GetTypes()
            .Where(t => t.Namespace == ns && t.IsAbstract && t.IsSealed)   // static classes
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.ReturnType == typeof(void) && (isExplicit(m) || m.GetParameters() is [{ ParameterType: var p }, ..] && (p == typeof(Index1D) || p == typeof(Index2D))));
}
