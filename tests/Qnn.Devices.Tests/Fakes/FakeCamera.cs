using Qnn.Devices.RaspberryPi;

namespace Qnn.Devices.Tests.Fakes;

/// <summary>A camera that returns the same picture every time and counts how often it was asked.</summary>
public sealed class FakeCamera(byte[] picture) : IFrameSource
{
    private int _captures;

    public int Captures => Volatile.Read(ref _captures);

    public Task<byte[]> CaptureAsync(CancellationToken cancellation)
    {
        Interlocked.Increment(ref _captures);
        return Task.FromResult(picture);
    }
}
