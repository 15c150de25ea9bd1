using System.Device.Spi;

namespace Qnn.Devices.Tests.Fakes;

/// <summary>An SPI device that records every write.</summary>
public sealed class RecordingSpiDevice(int busId = 0, int chipSelect = 0) : SpiDevice
{
    public List<byte[]> Writes { get; } = [];

    public override SpiConnectionSettings ConnectionSettings { get; } = new(busId, chipSelect);

    public override void Read(Span<byte> buffer) => buffer.Clear();

    public override void Write(ReadOnlySpan<byte> buffer) => Writes.Add(buffer.ToArray());

    public override void TransferFullDuplex(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Writes.Add(writeBuffer.ToArray());
        readBuffer.Clear();
    }
}
