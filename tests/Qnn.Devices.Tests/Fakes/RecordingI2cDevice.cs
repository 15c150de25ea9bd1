using System.Device.I2c;

namespace Qnn.Devices.Tests.Fakes;

/// <summary>An I2C device that records every write, as the bus would carry it.</summary>
public sealed class RecordingI2cDevice(int busId = 1, int address = 0x3C) : I2cDevice
{
    public List<byte[]> Writes { get; } = [];

    public override I2cConnectionSettings ConnectionSettings { get; } = new(busId, address);

    public override void Read(Span<byte> buffer) => buffer.Clear();

    public override void Write(ReadOnlySpan<byte> buffer) => Writes.Add(buffer.ToArray());

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Writes.Add(writeBuffer.ToArray());
        readBuffer.Clear();
    }
}
