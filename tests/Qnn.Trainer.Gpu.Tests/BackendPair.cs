using Qnn.Trainer.Backends;

namespace Qnn.Trainer.Gpu.Tests;

/// <summary>The same tensors on the CPU backend and on an ILGPU backend, and bit-for-bit comparison of them.</summary>
public sealed class BackendPair(IBackend cpu, IBackend gpu) : IDisposable
{
    public IBackend Cpu { get; } = cpu;
    public IBackend Gpu { get; } = gpu;

    /// <summary>One tensor on each backend holding <paramref name="data"/>.</summary>
    public (Tensor C, Tensor G) Of(float[] data)
    {
        var c = Cpu.Allocate(data.Length);
        var g = Gpu.Allocate(data.Length);
        Cpu.Upload(data, c);
        Gpu.Upload(data, g);
        return (c, g);
    }

    public (Tensor C, Tensor G) Zeros(int length) => Of(new float[length]);

    public static float[] Read(IBackend b, Tensor t, int count = -1)
    {
        var data = new float[count < 0 ? t.Length : count];
        b.Download(t, data);
        return data;
    }

    /// <summary>Asserts that both tensors hold the same bits in their first <paramref name="count"/> elements.</summary>
    public void AssertSame((Tensor C, Tensor G) t, string what, int count = -1)
    {
        float[] c = Read(Cpu, t.C, count), g = Read(Gpu, t.G, count);
        for (int i = 0; i < c.Length; i++)
            if (BitConverter.SingleToInt32Bits(c[i]) != BitConverter.SingleToInt32Bits(g[i]))
                Assert.Fail($"{what}: element {i} of {c.Length}: CPU {c[i]:R}, ILGPU {g[i]:R}");
    }

    public void Dispose() => Gpu.Dispose();
}
