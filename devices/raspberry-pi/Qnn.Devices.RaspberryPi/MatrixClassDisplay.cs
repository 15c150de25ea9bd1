using System.Device.Spi;
using Iot.Device.Max7219;

namespace Qnn.Devices.RaspberryPi;

/// <summary>
/// Shows the class on one or more cascaded 8×8 MAX7219 LED matrices over SPI, one glyph per matrix
/// (Iot.Device.Bindings' Max7219 and its default font): the label when it has a glyph per matrix, else the index.
/// </summary>
public sealed class MatrixClassDisplay : IClassDisplay
{
    private readonly Max7219 _matrix;
    private readonly MatrixGraphics _graphics;

    public MatrixClassDisplay(SpiDevice spi, int cascadedDevices = 1, RotationType rotation = RotationType.None)
    {
        _matrix = new Max7219(spi, cascadedDevices, rotation);
        _matrix.Init();
        _matrix.ClearAll(flush: true);
        _graphics = new MatrixGraphics(_matrix, Fonts.Default);
    }

    /// <summary>The SPI settings the MAX7219 needs on bus <paramref name="busId"/>, chip select <paramref name="chipSelect"/>.</summary>
    public static SpiConnectionSettings Settings(int busId, int chipSelect) => new(busId, chipSelect)
    {
        ClockFrequency = Max7219.SpiClockFrequency,
        Mode = Max7219.SpiMode,
    };

    public void Show(Classification classification)
    {
        _matrix.ClearAll(flush: false);
        // One glyph per matrix: the label when it fits ("7"), else the class index.
        string name = classification.Name.Length <= _matrix.CascadedDevices
            ? classification.Name
            : classification.Class.ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (int device = 0; device < Math.Min(name.Length, _matrix.CascadedDevices); device++)
            _graphics.WriteLetter(device, name[device], flush: false);
        _matrix.Flush();
    }

    public void Dispose() => _matrix.Dispose();
}
