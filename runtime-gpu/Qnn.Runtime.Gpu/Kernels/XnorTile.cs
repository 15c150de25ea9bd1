using ILGPU;

namespace Qnn.Runtime.Gpu.Kernels;

/// <summary>The 4 × 4 accumulators one thread of a tiled kernel owns: rows ty + Y·r, filters tx + X·c of the tile.</summary>
public struct Acc4x4
{
    public int V00, V01, V02, V03, V10, V11, V12, V13, V20, V21, V22, V23, V30, V31, V32, V33;
}

/// <summary>
/// The main loop shared by the tiled versions (2 and 3): a group of X × Y threads computes a (4·Y)-row ×
/// (4·X)-filter tile of accumulators; chunks of 8 64-bit words of the tile's A and W rows are staged in shared
/// memory (row stride 9 words against bank conflicts), and each thread accumulates 4 × 4 XOR popcounts in
/// registers, for rows ty + Y·r and filters tx + X·c. Plane pairs (j, i) of multi-bit layers are separate passes
/// whose dot products are shifted by i + j (SPEC 1.4).
/// GPUs run 16 × 16 groups (64 × 64 tiles); ILGPU's CPU accelerator runs each group thread as an OS thread that
/// meets the others at every barrier, so it gets 8 × 2 groups (16 × 32 tiles). X is a multiple of 8 so that a
/// tile covers whole 32-bit output words (version 3's packing relies on it).
/// </summary>
public static class XnorTile
{
    /// <summary>The largest group and tile; shared memory is sized for it (ILGPU needs constant sizes).</summary>
    public const int MaxGroupX = 16, MaxGroupY = 16, MaxTileRows = 4 * MaxGroupY, MaxTileFilters = 4 * MaxGroupX;
    public const int ChunkWords = 8, Stride = ChunkWords + 1;
    public const int SharedWords = MaxTileRows * Stride;

    public static Acc4x4 Compute(ArrayView<ulong> a, ArrayView<ulong> w, ArrayView<int> wpop, GemmShape g,
        ArrayView<ulong> aTile, ArrayView<ulong> wTile, int row0, int f0)
    {
        int gx = Group.DimX, gy = Group.DimY, threads = gx * gy;
        int tx = Group.IdxX, ty = Group.IdxY, tid = ty * gx + tx;
        int tileRows = 4 * gy, tileFilters = 4 * gx;
        var acc = new Acc4x4();
        for (int j = 0; j < g.InPlanes; j++)
        {
            for (int i = 0; i < g.WeightPlanes; i++)
            {
                int x00 = 0, x01 = 0, x02 = 0, x03 = 0, x10 = 0, x11 = 0, x12 = 0, x13 = 0;
                int x20 = 0, x21 = 0, x22 = 0, x23 = 0, x30 = 0, x31 = 0, x32 = 0, x33 = 0;
                for (int k0 = 0; k0 < g.K64; k0 += ChunkWords)
                {
                    for (int e = tid; e < tileRows * ChunkWords; e += threads)
                    {
                        int r = e / ChunkWords, kk = e % ChunkWords, k = k0 + kk, row = row0 + r;
                        aTile[r * Stride + kk] = row < g.Rows && k < g.K64 ? a[(row * g.InPlanes + j) * g.K64 + k] : 0UL;
                    }
                    for (int e = tid; e < tileFilters * ChunkWords; e += threads)
                    {
                        int r = e / ChunkWords, kk = e % ChunkWords, k = k0 + kk, f = f0 + r;
                        wTile[r * Stride + kk] = f < g.Filters && k < g.K64 ? w[(f * g.WeightPlanes + i) * g.K64 + k] : 0UL;
                    }
                    Group.Barrier();
                    for (int kk = 0; kk < ChunkWords; kk++)
                    {
                        ulong a0 = aTile[ty * Stride + kk], a1 = aTile[(ty + gy) * Stride + kk];
                        ulong a2 = aTile[(ty + 2 * gy) * Stride + kk], a3 = aTile[(ty + 3 * gy) * Stride + kk];
                        ulong b0 = wTile[tx * Stride + kk], b1 = wTile[(tx + gx) * Stride + kk];
                        ulong b2 = wTile[(tx + 2 * gx) * Stride + kk], b3 = wTile[(tx + 3 * gx) * Stride + kk];
                        x00 += IntrinsicMath.PopCount(a0 ^ b0); x01 += IntrinsicMath.PopCount(a0 ^ b1); x02 += IntrinsicMath.PopCount(a0 ^ b2); x03 += IntrinsicMath.PopCount(a0 ^ b3);
                        x10 += IntrinsicMath.PopCount(a1 ^ b0); x11 += IntrinsicMath.PopCount(a1 ^ b1); x12 += IntrinsicMath.PopCount(a1 ^ b2); x13 += IntrinsicMath.PopCount(a1 ^ b3);
                        x20 += IntrinsicMath.PopCount(a2 ^ b0); x21 += IntrinsicMath.PopCount(a2 ^ b1); x22 += IntrinsicMath.PopCount(a2 ^ b2); x23 += IntrinsicMath.PopCount(a2 ^ b3);
                        x30 += IntrinsicMath.PopCount(a3 ^ b0); x31 += IntrinsicMath.PopCount(a3 ^ b1); x32 += IntrinsicMath.PopCount(a3 ^ b2); x33 += IntrinsicMath.PopCount(a3 ^ b3);
                    }
                    Group.Barrier();
                }
                int s = i + j;
                int p0 = Pop(wpop, g, f0 + tx, i), p1 = Pop(wpop, g, f0 + tx + gx, i);
                int p2 = Pop(wpop, g, f0 + tx + 2 * gx, i), p3 = Pop(wpop, g, f0 + tx + 3 * gx, i);
                acc.V00 += XnorGemm1.Dot(x00, g, p0) << s; acc.V01 += XnorGemm1.Dot(x01, g, p1) << s;
                acc.V02 += XnorGemm1.Dot(x02, g, p2) << s; acc.V03 += XnorGemm1.Dot(x03, g, p3) << s;
                acc.V10 += XnorGemm1.Dot(x10, g, p0) << s; acc.V11 += XnorGemm1.Dot(x11, g, p1) << s;
                acc.V12 += XnorGemm1.Dot(x12, g, p2) << s; acc.V13 += XnorGemm1.Dot(x13, g, p3) << s;
                acc.V20 += XnorGemm1.Dot(x20, g, p0) << s; acc.V21 += XnorGemm1.Dot(x21, g, p1) << s;
                acc.V22 += XnorGemm1.Dot(x22, g, p2) << s; acc.V23 += XnorGemm1.Dot(x23, g, p3) << s;
                acc.V30 += XnorGemm1.Dot(x30, g, p0) << s; acc.V31 += XnorGemm1.Dot(x31, g, p1) << s;
                acc.V32 += XnorGemm1.Dot(x32, g, p2) << s; acc.V33 += XnorGemm1.Dot(x33, g, p3) << s;
            }
        }
        return acc;
    }

    private static int Pop(ArrayView<int> wpop, GemmShape g, int f, int i) => f < g.Filters ? wpop[f * g.WeightPlanes + i] : 0;
}
