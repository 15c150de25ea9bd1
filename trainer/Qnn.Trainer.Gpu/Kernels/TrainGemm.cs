using ILGPU;

namespace Qnn.Trainer.Gpu.Kernels;

/// <summary>Sizes and flags of one GEMM call (see <see cref="Backends.IBackend.Gemm"/>).</summary>
/// <param name="Tile">Side of the square thread group and of the staged tiles: 16 on GPUs, 4 where groups are small
/// (ILGPU's CPU accelerator runs 16-thread groups by default).</param>
public readonly record struct GemmArgs(int M, int N, int K, int TransposeA, int TransposeB, float Alpha, float Beta, int Tile);

/// <summary>
/// C = alpha · op(A) · op(B) + beta · C with square tiles (16 × 16 on a GPU) staged in shared memory, one output per thread. Each
/// output is accumulated exactly as the CPU backend's <c>CpuGemm</c> does it: fused multiply-adds in k order,
/// restarted from zero every 256 (its KC block) and added to the running C as alpha · block (+ beta · C for the
/// first block, + C after it). So the two backends give the same bits, and the parity tests can demand it.
/// </summary>
public static class TrainGemm
{
    /// <summary>The largest tile side (the shared memory is sized for it).</summary>
    public const int MaxTile = 16;

    /// <summary>The CPU GEMM's k-block (CpuGemm.KC): the float sum is restarted every this many products.</summary>
    public const int Block = 256;

    public static void Kernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, GemmArgs g)
    {
        var tileA = SharedMemory.Allocate<float>(MaxTile * MaxTile);
        var tileB = SharedMemory.Allocate<float>(MaxTile * MaxTile);
        int tile = g.Tile;
        int tx = Group.IdxX, ty = Group.IdxY;
        int row = Grid.IdxY * tile + ty, col = Grid.IdxX * tile + tx;
        bool inside = row < g.M && col < g.N;
        float acc = 0f, result = 0f;
        bool first = true;
        for (int p0 = 0; p0 < g.K; p0 += tile)
        {
            int ar = Grid.IdxY * tile + ty, ap = p0 + tx;
            float av = 0f;
            if (ar < g.M && ap < g.K) av = g.TransposeA != 0 ? a[ap * g.M + ar] : a[ar * g.K + ap];
            tileA[ty * tile + tx] = av;
            int bp = p0 + ty, bc = Grid.IdxX * tile + tx;
            float bv = 0f;
            if (bp < g.K && bc < g.N) bv = g.TransposeB != 0 ? b[bc * g.K + bp] : b[bp * g.N + bc];
            tileB[ty * tile + tx] = bv;
            Group.Barrier();
            int kk = g.K - p0 < tile ? g.K - p0 : tile;
            for (int q = 0; q < kk; q++) acc = MathF.FusedMultiplyAdd(tileA[ty * tile + q], tileB[q * tile + tx], acc);
            Group.Barrier();
            if ((p0 + tile) % Block == 0 || p0 + tile >= g.K)
            {
                float v = g.Alpha != 1f ? acc * g.Alpha : acc;
                if (!first) v += result;
                else if (g.Beta != 0f && inside) v += c[row * g.N + col] * g.Beta;
                result = v;
                acc = 0f;
                first = false;
            }
        }
        if (inside) c[row * g.N + col] = g.K == 0 ? (g.Beta == 0f ? 0f : g.Beta * c[row * g.N + col]) : result;
    }

    /// <summary>The tile side for an accelerator: 16 when it runs 256-thread groups, else 4.</summary>
    public static int TileFor(int maxThreadsPerGroup) => maxThreadsPerGroup >= MaxTile * MaxTile ? MaxTile : 4;

    /// <summary>The launch grid for an M × N result.</summary>
    public static KernelConfig Grid2D(GemmArgs g) =>
        new(new Index2D((g.N + g.Tile - 1) / g.Tile, (g.M + g.Tile - 1) / g.Tile), new Index2D(g.Tile, g.Tile));
}
