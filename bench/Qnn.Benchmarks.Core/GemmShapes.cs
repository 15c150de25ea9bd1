namespace Qnn.Benchmarks;

/// <summary>A matrix product C[M×N] = A[M×K] · B[K×N] and where it comes from.</summary>
public sealed record GemmShape(string Name, int M, int N, int K)
{
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
    /// What the trainer's CPU backend multiplies for the MNIST MLP (`qnn train --arch mlp`, width 1024, batch 100):
    /// the first layer's forward, a hidden layer's forward and its weight gradient (K = batch), and the paper's
    /// 4096-unit hidden layer.
    /// </summary>
    public static readonly GemmShape[] Training =
    [
        new("MLP layer 1 forward (784 -> 1024, batch 100)", 100, 1024, 784),
        new("MLP hidden forward (1024 -> 1024, batch 100)", 100, 1024, 1024),
        new("MLP hidden weight gradient (K = batch 100)", 1024, 1024, 100),
        new("paper MLP hidden forward (4096 -> 4096, batch 100)", 100, 4096, 4096),
    ];
}
