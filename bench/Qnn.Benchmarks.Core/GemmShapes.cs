namespace Qnn.Benchmarks;

/// <summary>
/// A matrix product C[M×N] = op(A)[M×K] · op(B)[K×N] and where it comes from. A is stored K×M when
/// <paramref name="TransposeA"/>, B is stored N×K when <paramref name="TransposeB"/> (as the trainer calls its GEMM).
/// </summary>
public sealed record GemmShape(string Name, int M, int N, int K, bool TransposeA = false, bool TransposeB = false)
{
    /// <summary>"NN", "TN", "NT": which operands are stored transposed.</summary>
    public string Transposes => $"{(TransposeA ? 'T' : 'N')}{(TransposeB ? 'T' : 'N')}";

    /// <summary>2·M·N·K: multiply-adds counted as two operations, float or binary.</summary>
    public double Operations => 2.0 * M * N * K;
}

/// <summary>The layer shapes of the papers (Hubara et al. 2016), as the GEMMs their layers are.</summary>
public static class GemmShapes
{
    /// <summary>
    /// Binary layers of BNN's networks: a hidden layer of the MNIST MLP (4096 units) at batch 1 and 256, and two
    /// convolutions of the CIFAR-10 ConvNet (128C3 at 32×32, 512C3 at 8×8) as im2col GEMMs of one image
    /// (M = output pixels, K = 3·3·input channels, N = filters).
    /// </summary>
    public static readonly GemmShape[] Binary =
    [
        new("MNIST MLP 4096x4096, batch 1", 1, 4096, 4096),
        new("MNIST MLP 4096x4096, batch 256", 256, 4096, 4096),
        new("CIFAR-10 128C3 @32x32 (im2col)", 1024, 128, 1152),
        new("CIFAR-10 512C3 @8x8 (im2col)", 64, 512, 4608),
    ];

    /// <summary>
    /// What the trainer's CPU backend multiplies, with the transposes it calls (batch 100). The MNIST MLP
    /// (`qnn train --arch mlp`, width 1024; weights stored units × inputs): a layer's forward is x · Wᵀ, its weight
    /// gradient dyᵀ · x (K = batch), its input gradient dy · W. The conv net (`--arch conv`, 32 and 64 filters of 3×3 on
    /// 28×28 and 14×14, im2col rows = batch × pixels): forward cols · Wᵀ, weight gradient dyᵀ · cols, input gradient
    /// dy · W. And the paper's 4096-unit hidden layer.
    /// </summary>
    public static readonly GemmShape[] Training =
    [
        new("MLP layer 1 forward (784 -> 1024)", 100, 1024, 784, TransposeB: true),
        new("MLP hidden forward (1024 -> 1024)", 100, 1024, 1024, TransposeB: true),
        new("MLP layer 1 weight gradient (K = batch)", 1024, 784, 100, TransposeA: true),
        new("MLP hidden weight gradient (K = batch)", 1024, 1024, 100, TransposeA: true),
        new("MLP hidden input gradient", 100, 1024, 1024),
        new("conv 1 forward (32C3 @28x28, im2col)", 78400, 32, 9, TransposeB: true),
        new("conv 1 weight gradient", 32, 9, 78400, TransposeA: true),
        new("conv 2 forward (64C3 @14x14, im2col)", 19600, 64, 288, TransposeB: true),
        new("conv 2 weight gradient", 64, 288, 19600, TransposeA: true),
        new("conv 2 input gradient (col2im's operand)", 19600, 288, 64),
        new("paper MLP hidden forward (4096 -> 4096)", 100, 4096, 4096, TransposeB: true),
    ];
}
