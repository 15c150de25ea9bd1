using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace Qnn.Runtime.Gpu;

/// <summary>
/// The second baseline of the paper: cuBLAS SGEMM over the same float matrices as <see cref="Kernels.FloatBaseline"/>,
/// reached through ILGPU.Algorithms. It exists only on a CUDA accelerator with the cuBLAS library installed.
/// </summary>
public sealed class CuBlasGemm : IDisposable
{
    private readonly CuBlas _blas;

    private CuBlasGemm(CuBlas blas) { _blas = blas; }

    /// <summary>cuBLAS on <paramref name="accelerator"/>, or null with the reason when it is not CUDA or the library does not load.</summary>
    public static CuBlasGemm? TryCreate(Accelerator accelerator, out string? reason)
    {
        reason = null;
        if (accelerator is not CudaAccelerator cuda)
        {
            reason = "cuBLAS needs a CUDA accelerator";
            return null;
        }
        try
        {
            return new CuBlasGemm(new CuBlas(cuda));
        }
        catch (Exception e) // a missing or mismatched libcublas surfaces as several exception types: report, do not crash
        {
            reason = "cuBLAS is not reachable: " + e.Message;
            return null;
        }
    }

    /// <summary>c[rows][filters] = a[rows][k] · w[filters][k]ᵀ, all row-major (column-major cuBLAS computes cᵀ = w · aᵀ).</summary>
    public void Multiply(ArrayView<float> a, ArrayView<float> w, ArrayView<float> c, int rows, int filters, int k) =>
        _blas.Gemm(CuBlasOperation.Transpose, CuBlasOperation.NonTranspose, filters, rows, k, 1f, w, k, a, k, 0f, c, filters);

    public void Dispose() => _blas.Dispose();
}
