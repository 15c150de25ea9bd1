using Qnn.Format;
using Qnn.TestSupport;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Qnn.Devices.Tests;

/// <summary>A small random convolutional model over 8×8 grayscale images (no preprocessing flags), and PNGs for it.</summary>
public static class ImageModels
{
    public const int Side = 8;

    /// <summary>A conv and a dense head on Side × Side images of <paramref name="channels"/> channels (1: grey, 3: colour).</summary>
    public static QnnModel Create(int seed, int channels = 1)
    {
        var rng = new Random(seed);
        var conv = LayerFactory.Conv2D(Side, Side, channels, 6, 3, 3, 1, 1, 1, 8, false, OutputKind.Thresholds, 1);
        var dense = LayerFactory.Dense(conv.OutH, conv.OutW, conv.OutC, 10, 1, 1, true, OutputKind.Scores, 0);
        var model = new QnnModel
        {
            InputHeight = Side, InputWidth = Side, InputChannels = channels, InputBits = 8, ClassCount = 10,
            Layers = [conv, dense],
            Labels = Enumerable.Range(0, 10).Select(i => "digit " + i).ToArray(),
        };
        foreach (var l in model.Layers) RandomLayers.Fill(rng, l);
        return model;
    }

    /// <summary>The pixels as a PNG file's bytes: grayscale for Side² bytes, RGB for 3·Side².</summary>
    public static byte[] Png(byte[] pixels)
    {
        using Image image = pixels.Length == 3 * Side * Side ? Image.LoadPixelData<Rgb24>(pixels, Side, Side) : Image.LoadPixelData<L8>(pixels, Side, Side);
        using var png = new MemoryStream();
        image.SaveAsPng(png);
        return png.ToArray();
    }
}
