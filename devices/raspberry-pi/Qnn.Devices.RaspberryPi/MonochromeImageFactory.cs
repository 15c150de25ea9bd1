using System.Drawing;
using System.Runtime.InteropServices;
using Iot.Device.Graphics;

namespace Qnn.Devices.RaspberryPi;

/// <summary>
/// The smallest image factory Iot.Device.Bindings accepts: the Ssd13xx constructors clear the screen through
/// <see cref="BitmapImage"/>, which throws unless a factory is registered, and the SkiaSharp adapter package is
/// more than this app needs (it draws its own frames, see <see cref="OledFrame"/>).
/// </summary>
public sealed class MonochromeImageFactory : IImageFactory
{
    private static readonly MonochromeImageFactory Instance = new();

    /// <summary>Registers the factory (idempotent).</summary>
    public static void Register() => BitmapImage.RegisterImageFactory(Instance);

    public BitmapImage CreateBitmap(int width, int height, PixelFormat pixelFormat) => new ArgbImage(width, height, pixelFormat);

    public BitmapImage CreateFromStream(Stream file) =>
        throw new NotSupportedException("this app decodes image files with ImageSharp, not with the display's image factory");

    private sealed class ArgbImage(int width, int height, PixelFormat format) : BitmapImage(width, height, width * 4, format)
    {
        private readonly int[] _pixels = new int[width * height];

        public override void SetPixel(int x, int y, Color color) => _pixels[y * Width + x] = color.ToArgb();

        public override Color GetPixel(int x, int y) => Color.FromArgb(_pixels[y * Width + x]);

        public override Span<byte> AsByteSpan() => MemoryMarshal.AsBytes(_pixels.AsSpan());

        public override void SaveToStream(Stream stream, ImageFileType format) =>
            throw new NotSupportedException("the app sends frames to the display; it never saves them");

        public override IGraphics GetDrawingApi() =>
            throw new NotSupportedException("the app draws its own frames (OledFrame), not through the display's drawing API");

        protected override void Dispose(bool disposing) { }
    }
}
