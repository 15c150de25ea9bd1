using Iot.Device.Max7219;

namespace Qnn.Devices.RaspberryPi;

/// <summary>
/// A 1-bit frame in the SSD1306's memory layout: <c>Height / 8</c> pages of <c>Width</c> bytes, bit <c>y mod 8</c>
/// of byte <c>(y / 8) · Width + x</c> is the pixel (x, y). Text is drawn with the 8-pixel font that
/// Iot.Device.Bindings ships for the MAX7219 (<see cref="Fonts.Default"/>: one byte per column, bit 0 at the top),
/// so the OLED and the LED matrix show the same glyphs.
/// </summary>
public sealed class OledFrame
{
    private static readonly IFont Font = Fonts.Default;

    public OledFrame(int width, int height)
    {
        if (width <= 0 || height <= 0 || height % 8 != 0)
            throw new ArgumentException($"an SSD1306 frame is a whole number of 8-pixel pages, not {width}x{height}");
        Width = width;
        Height = height;
        Bytes = new byte[width * height / 8];
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>The frame as the display's data bytes, page by page.</summary>
    public byte[] Bytes { get; }

    public bool this[int x, int y] => (Bytes[(y >> 3) * Width + x] >> (y & 7) & 1) != 0;

    public void Set(int x, int y)
    {
        if ((uint)x < (uint)Width && (uint)y < (uint)Height) Bytes[(y >> 3) * Width + x] |= (byte)(1 << (y & 7));
    }

    /// <summary>Width in pixels of <paramref name="text"/> at <paramref name="scale"/>, one blank column between glyphs.</summary>
    public static int MeasureText(string text, int scale)
    {
        int columns = 0;
        foreach (char c in text) columns += Font[c].Count + 1;
        return Math.Max(0, columns - 1) * scale;
    }

    /// <summary>Draws <paramref name="text"/> with its top-left corner at (x, y), each font pixel a scale × scale block.</summary>
    public void DrawText(string text, int x, int y, int scale)
    {
        foreach (char c in text)
        {
            foreach (byte column in Font[c])
            {
                for (int row = 0; row < 8; row++)
                {
                    if ((column >> row & 1) == 0) continue;
                    for (int dy = 0; dy < scale; dy++)
                        for (int dx = 0; dx < scale; dx++) Set(x + dx, y + row * scale + dy);
                }
                x += scale;
            }
            x += scale;
        }
    }

    /// <summary>Draws <paramref name="text"/> centred horizontally, as large as fits the width and <paramref name="maxScale"/>.</summary>
    public void DrawCentered(string text, int y, int maxScale)
    {
        int scale = maxScale;
        while (scale > 1 && MeasureText(text, scale) > Width) scale--;
        DrawText(text, Math.Max(0, (Width - MeasureText(text, scale)) / 2), y, scale);
    }
}
