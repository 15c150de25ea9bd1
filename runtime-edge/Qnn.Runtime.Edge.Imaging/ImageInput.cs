using Qnn.Format;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Qnn.Runtime.Edge.Imaging;

/// <summary>
/// Turns an image file or a camera frame into the H·W·C 8-bit pixels a model reads, as its header asks
/// (SPEC 2.3): grayscale or RGB to match C, inverted when the model wants bright content on dark (bit 0),
/// centered on its content's bounding box MNIST-style (bit 1), then resized to H × W.
/// A raw file of exactly H·W·C bytes is a sample already in the model's input form and is used as it is.
/// </summary>
public static class ImageInput
{
    /// <summary>MNIST puts each digit in a 20 × 20 box inside its 28 × 28 image: content fills this share of the side.</summary>
    public const double CenteredContentShare = 20.0 / 28.0;

    /// <summary>What a file was read as.</summary>
    public enum Source { Image, Raw }

    /// <summary>
    /// Images larger than this many pixels are refused from their header, before decoding: a 74-byte PNG can declare
    /// 65535 × 65535 pixels, 16 GiB decoded. 64 megapixels is more than any camera frame or photo a model of at most
    /// 4096 × 4096 inputs is meant to read (README, Limits).
    /// </summary>
    public const long MaxPixels = 64L << 20;

    /// <summary>Image files are read up to this size (a 64-megapixel uncompressed BMP is 256 MiB with alpha).</summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>Reads <paramref name="path"/> and converts it; errors name the file.</summary>
    public static byte[] Load(string path, QnnModel model) => Load(path, model, out _);

    public static byte[] Load(string path, QnnModel model, out Source source) => Load(path, model, null, out source);

    /// <summary>
    /// Reads <paramref name="path"/> (a regular file, through <see cref="InputFile"/>) and converts it. Every problem is
    /// one <see cref="InvalidDataException"/> or IOException whose message starts with the file's path, or, for what
    /// the model cannot take, with <paramref name="modelName"/> when given.
    /// </summary>
    public static byte[] Load(string path, QnnModel model, string? modelName, out Source source)
    {
        int expected = model.InputHeight * model.InputWidth * model.InputChannels;
        byte[] bytes = InputFile.ReadAllBytes(path, Math.Max(MaxFileBytes, expected), "an image or raw input");
        var format = Image.DetectFormat(bytes);
        if (format == null)
        {
            if (bytes.Length == expected)
            {
                source = Source.Raw;
                return bytes;
            }
            throw new InvalidDataException(
                $"{path}: not a PNG, JPEG, PGM/PBM/PPM, BMP, GIF or TGA image, and its {bytes.Length} bytes are not a raw " +
                $"{model.InputHeight}x{model.InputWidth}x{model.InputChannels} sample ({expected} bytes)");
        }
        try
        {
            CheckModel(model);
        }
        catch (InvalidDataException e) when (modelName is not null)
        {
            throw new InvalidDataException($"{modelName}: {e.Message}");
        }
        Image image;
        try
        {
            if (PnmHeader.IsPnm(bytes) && PnmHeader.Problem(bytes) is { } problem)
                throw new InvalidDataException($"{path}: {problem}");
            var info = Image.Identify(bytes) ?? throw new InvalidDataException($"{path}: cannot read the {format.Name} image's header");
            if (info.Width < 1 || info.Height < 1) throw new InvalidDataException($"{path}: the {format.Name} header declares a {info.Width}x{info.Height} image");
            long pixels = (long)info.Width * info.Height;
            if (pixels > MaxPixels)
                throw new InvalidDataException($"{path}: the {format.Name} header declares {info.Width}x{info.Height} = {pixels:N0} pixels, over the limit of {MaxPixels >> 20} megapixels");
            // Only the first frame of an animation is classified: decoding the others is work without bound.
            image = format.Name switch
            {
                "GIF" => Image.Load(bytes, new SixLabors.ImageSharp.Formats.Gif.GifDecoder { DecodingMode = SixLabors.ImageSharp.Metadata.FrameDecodingMode.First }),
                "TIFF" => Image.Load(bytes, new SixLabors.ImageSharp.Formats.Tiff.TiffDecoder { DecodingMode = SixLabors.ImageSharp.Metadata.FrameDecodingMode.First }),
                _ => Image.Load(bytes),
            };
        }
        catch (InvalidDataException) { throw; }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Any exception of the decoder, not only ImageSharp's own: its PGM reader, for one, throws argument
            // and arithmetic exceptions on hostile headers.
            throw new InvalidDataException($"{path}: cannot decode the {format.Name} image: {e.Message}");
        }
        using (image)
        {
            source = Source.Image;
            return FromImage(image, model);
        }
    }

    /// <summary>Throws <see cref="InvalidDataException"/> when images cannot be converted to the model's input.</summary>
    public static void CheckModel(QnnModel model)
    {
        var (_, _, c) = ImageShape(model);
        if (c != 1 && c != 3)
            throw new InvalidDataException($"the model reads {c} channels per pixel; images convert to 1 (grayscale) or 3 (RGB)");
    }

    /// <summary>Converts any decoded image (a file, a camera frame) to the model's input.</summary>
    public static byte[] FromImage(Image image, QnnModel model)
    {
        CheckModel(model);
        var (h, w, c) = ImageShape(model);
        bool invert = (model.PreprocessFlags & Preprocess.Invert) != 0;
        bool center = (model.PreprocessFlags & Preprocess.Center) != 0;
        if (c == 1)
        {
            using var gray = image.CloneAs<L8>();
            if (invert) gray.Mutate(x => x.Invert());
            if (center) CenterOnContent(gray, Luminance, w, h);
            else gray.Mutate(x => x.Resize(w, h));
            var pixels = new byte[h * w];
            gray.CopyPixelDataTo(pixels);
            return pixels;
        }
        using var rgb = image.CloneAs<Rgb24>();
        if (invert) rgb.Mutate(x => x.Invert());
        if (center) CenterOnContent(rgb, p => (byte)((p.R * 77 + p.G * 150 + p.B * 29) >> 8), w, h);
        else rgb.Mutate(x => x.Resize(w, h));
        var data = new byte[h * w * 3];
        rgb.CopyPixelDataTo(data);
        return data;
    }

    private static byte Luminance(L8 p) => p.PackedValue;

    /// <summary>The image an input stands for: <see cref="Qnn.Format.ImageShape.Of"/>.</summary>
    public static (int Height, int Width, int Channels) ImageShape(QnnModel model) => Qnn.Format.ImageShape.Of(model);

    /// <summary>
    /// Crops to the bounding box of the content, scales it so that its longer side takes
    /// <see cref="CenteredContentShare"/> of <paramref name="width"/> × <paramref name="height"/>, and pads it with the
    /// background to that size, centered. The background is the median brightness of the border
    /// pixels; content is what differs from it by more than half the largest difference, so dark ink on paper and
    /// bright strokes on black are both found.
    /// </summary>
    public static void CenterOnContent<TPixel>(Image<TPixel> image, Func<TPixel, byte> brightness, int width, int height) where TPixel : unmanaged, IPixel<TPixel>
    {
        var border = new List<(byte Value, TPixel Pixel)>();
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                    if (y == 0 || y == rows.Height - 1 || x == 0 || x == row.Length - 1) border.Add((brightness(row[x]), row[x]));
            }
        });
        border.Sort((a, b) => a.Value.CompareTo(b.Value));
        var (background, backgroundPixel) = border[border.Count / 2];
        int largest = 0;
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
                foreach (var p in rows.GetRowSpan(y)) largest = Math.Max(largest, Math.Abs(brightness(p) - background));
        });
        if (largest == 0)
        {
            image.Mutate(x => x.Resize(width, height)); // a blank image has no content to center
            return;
        }
        int top = int.MaxValue, left = int.MaxValue, bottom = -1, right = -1;
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height; y++)
            {
                var row = rows.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    if (2 * Math.Abs(brightness(row[x]) - background) <= largest) continue;
                    top = Math.Min(top, y); bottom = Math.Max(bottom, y);
                    left = Math.Min(left, x); right = Math.Max(right, x);
                }
            }
        });
        int boxW = right - left + 1, boxH = bottom - top + 1;
        // MNIST style: the content's longer side is scaled to 20/28 of the target, then padded to the target, centered.
        double scale = Math.Min(width, height) * CenteredContentShare / Math.Max(boxW, boxH);
        int contentW = Math.Clamp((int)Math.Round(boxW * scale), 1, width), contentH = Math.Clamp((int)Math.Round(boxH * scale), 1, height);
        var pad = ToColor(backgroundPixel);
        image.Mutate(x => x
            .Crop(new Rectangle(left, top, boxW, boxH))
            .Resize(contentW, contentH)
            .Resize(new ResizeOptions { Size = new Size(width, height), Mode = ResizeMode.BoxPad, Position = AnchorPositionMode.Center, PadColor = pad }));
    }

    private static Color ToColor<TPixel>(TPixel p) where TPixel : unmanaged, IPixel<TPixel>
    {
        Rgba32 rgba = default;
        p.ToRgba32(ref rgba);
        return Color.FromRgba(rgba.R, rgba.G, rgba.B, rgba.A);
    }
}
