using Qnn.Runtime.Edge.Fast;

namespace Qnn.Benchmarks;

/// <summary>
/// Binary GEMM of ±1 matrices with the fast edge path's XNOR-popcount kernel (<see cref="PopcountBlock.Rows{TOp}"/>):
/// C[M×N] = A[M×K] · B[K×N] as K − 2·popcount(a XOR b), operands packed to bits (1 = +1, SPEC 1.1) and B laid out
/// as the runtime lays out filters, 8 interleaved per block. Tiles of 4 rows × 64 filters run across all cores.
/// </summary>
public sealed class BinaryGemm
{
    private const int TileBlocks = 8;
    private readonly ulong[] _a;
    private readonly ulong[] _b;
    private readonly int _words;
    private readonly int _blocks;

    /// <summary>Packs A (M×K, row-major) and B (K×N, row-major) of ±1 floats; a value ≥ 0 is +1.</summary>
    public BinaryGemm(float[] a, float[] b, int m, int n, int k, FastKernel kernel = FastKernel.Auto)
    {
        M = m; N = n; K = k;
        Kernel = PopcountBlock.Resolve(kernel);
        _words = (k + 63) / 64;
        _blocks = (n + PopcountBlock.BlockFilters - 1) / PopcountBlock.BlockFilters;
        _a = new ulong[m * _words];
        for (int i = 0; i < m; i++)
            for (int c = 0; c < k; c++)
                if (a[i * k + c] >= 0) _a[i * _words + c / 64] |= 1UL << (c % 64);
        _b = new ulong[_blocks * _words * PopcountBlock.BlockFilters];
        for (int j = 0; j < n; j++)
            for (int c = 0; c < k; c++)
                if (b[c * n + j] >= 0)
                    _b[(j / PopcountBlock.BlockFilters * _words + c / 64) * PopcountBlock.BlockFilters + j % PopcountBlock.BlockFilters] |= 1UL << (c % 64);
        C = new int[m * n];
    }

    public int M { get; }
    public int N { get; }
    public int K { get; }
    public FastKernel Kernel { get; }

    /// <summary>The product of the last <see cref="Run"/>, row-major M×N.</summary>
    public int[] C { get; }

    /// <summary>Bytes of the packed operands: what binary weights and activations occupy.</summary>
    public long PackedBytes => 8L * (_a.Length + _b.Length);

    public void Run()
    {
        // Tiles of 4 rows (sharing each weight load, PopcountBlock.Rows) × 64 filters.
        const int rowBlock = PopcountBlock.RowBlock, width = TileBlocks * PopcountBlock.BlockFilters;
        int groups = (_blocks + TileBlocks - 1) / TileBlocks, rowGroups = (M + rowBlock - 1) / rowBlock;
        Parallel.For(0, rowGroups * groups, tile =>
        {
            int i0 = tile / groups * rowBlock, rows = Math.Min(rowBlock, M - i0);
            int b0 = tile % groups * TileBlocks, b1 = Math.Min(_blocks, b0 + TileBlocks);
            Span<int> counts = stackalloc int[rowBlock * width];
            PopcountBlock.Rows<XorOp>(Kernel, _a.AsSpan(i0 * _words), rows, _words, 1,
                _b.AsSpan(b0 * _words * PopcountBlock.BlockFilters), b1 - b0, 1, _words, counts, width);
            int j0 = b0 * PopcountBlock.BlockFilters, n = Math.Min((b1 - b0) * PopcountBlock.BlockFilters, N - j0);
            for (int r = 0; r < rows; r++)
                for (int l = 0; l < n; l++) C[(i0 + r) * N + j0 + l] = K - 2 * counts[r * width + l];
        });
    }
}
