using System.Device.I2c;
using System.Globalization;
using Iot.Device.Ssd13xx;
using Iot.Device.Ssd13xx.Commands;
using Iot.Device.Ssd13xx.Commands.Ssd1306Commands;

namespace Qnn.Devices.RaspberryPi;

/// <summary>
/// Shows a classification on a 128×64 (or 128×32) SSD1306 OLED over I2C: the class name large, its latency in a
/// small line below. Iot.Device.Bindings' Ssd1306 initialises the panel and frames the bus protocol (control byte
/// 0x00 for commands, 0x40 for data); it sets up the panel as 128×32, so a 64-row panel gets its multiplex ratio and
/// COM pin layout here, and the frame is written page by page from <see cref="OledFrame"/>.
/// </summary>
public sealed class OledClassDisplay : IClassDisplay
{
    public const int DefaultAddress = 0x3C;
    public const int Width = 128;

    private readonly Ssd1306 _display;
    private readonly int _height;

    public OledClassDisplay(I2cDevice i2c, int height = 64)
    {
        if (height != 32 && height != 64) throw new ArgumentException($"SSD1306 panels are 128x32 or 128x64, not 128x{height}");
        _height = height;
        MonochromeImageFactory.Register();
        _display = new Ssd1306(i2c, Width, height);
        if (height == 64)
        {
            _display.SendCommand(new SetMultiplexRatio(63));
            _display.SendCommand(new SetComPinsHardwareConfiguration(true, false));
        }
    }

    public void Show(Classification classification) => Write(Render(classification, _height));

    /// <summary>The frame shown for <paramref name="classification"/>.</summary>
    public static OledFrame Render(Classification classification, int height)
    {
        var frame = new OledFrame(Width, height);
        // Big glyphs: 7 font rows × scale pixels, leaving the last page for the latency line.
        int scale = Math.Max(1, (height - 8) / 8);
        frame.DrawCentered(classification.Name, 0, scale);
        string line = classification.Inference.TotalMilliseconds.ToString("0.000", CultureInfo.InvariantCulture) + " ms";
        frame.DrawCentered(line, height - 8, 1);
        return frame;
    }

    /// <summary>Writes a whole frame: column and page window, then one data write per page.</summary>
    public void Write(OledFrame frame)
    {
        _display.SendCommand(new SetColumnAddress(0, Width - 1));
        _display.SendCommand(new SetPageAddress(PageAddress.Page0, (PageAddress)(frame.Height / 8 - 1)));
        for (int page = 0; page < frame.Height / 8; page++)
            _display.SendData(frame.Bytes.AsSpan(page * Width, Width));
    }

    public void Dispose() => _display.Dispose();
}
