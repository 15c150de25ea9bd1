using ILGPU;

namespace Qnn.Runtime.Gpu.Kernels;

/// <summary>
/// Version 2: shared-memory tiles, 64-bit words, 4 × 4 accumulators per thread (<see cref="XnorTile"/>); writes the
/// accumulators, which the separate epilogue kernels then pool, threshold and pack.
/// </summary>
public static class XnorGemm2
{
    /// <summary>Grid: (ceil(Rows / 4Y), ceil(F / 4X)) groups of X × Y threads (<see cref="GpuKernels.TileGrid"/>, <see cref="XnorTile"/>).</summary>
    public static void Kernel(ArrayView<ulong> a, ArrayView<ulong> w, ArrayView<int> wpop, ArrayView<int> acc, GemmShape g)
    {
        var aTile = SharedMemory.Allocate<ulong>(XnorTile.SharedWords);
        var wTile = SharedMemory.Allocate<ulong>(XnorTile.SharedWords);
        int gx = Group.DimX, gy = Group.DimY;
        int row0 = Grid.IdxX * 4 * gy, f0 = Grid.IdxY * 4 * gx;
        Acc4x4 v = XnorTile.Compute(a, w, wpop, g, aTile, wTile, row0, f0);
        int r = row0 + Group.IdxY, f = f0 + Group.IdxX;
        Store(acc, g, r, f, gx, v.V00, v.V01, v.V02, v.V03);
        Store(acc, g, r + gy, f, gx, v.V10, v.V11, v.V12, v.V13);
        Store(acc, g, r + 2 * gy, f, gx, v.V20, v.V21, v.V22, v.V23);
        Store(acc, g, r + 3 * gy, f, gx, v.V30, v.V31, v.V32, v.V33);
    }

    private static void Store(ArrayView<int> acc, GemmShape g, int row, int f, int gx, int v0, int v1, int v2, int v3)
    {
        if (row >= g.Rows) return;
        int b = row * g.Filters;
        if (f < g.Filters) acc[b + f] = v0;
        if (f + gx < g.Filters) acc[b + f + gx] = v1;
        if (f + 2 * gx < g.Filters) acc[b + f + 2 * gx] = v2;
        if (f + 3 * gx < g.Filters) acc[b + f + 3 * gx] = v3;
    }
}
