using Qnn.Format;
using Qnn.TestSupport;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Qnn.Devices.Tests;

/// <summary>A small random convolutional model over 8×8 grayscale images (no preprocessing flags), and PNGs for it.</summary>
public static class ImageModels
{
    public const int Side = 8;

    public static QnnModel Create(int seed)
    {
        var rng = new Random(seed);
        var conv = LayerFactory.Conv2D(Side, Side, 1, 6, 3, 3, 1, 1, 1, 8, false, OutputKind.Thresholds, 1);
        var dense = LayerFactory.Dense(conv.OutH, conv.OutW, conv.OutC, 10, 1, 1, true, OutputKind.Scores, 0);
        var model = new QnnModel
        {
            InputHeight = Side, InputWidth = Side, InputChannels = 1, InputBits = 8, ClassCount = 10,
            Layers = [conv, dense],
            Labels = Enumerable.Range(0, 10).Select(i => "digit " + i).ToArray(),
        };
        foreach (var l in model.Layers) RandomLayers.Fill(rng, l);
        return model;
    }

    /// <summary>The pixels as a grayscale PNG file's bytes.</summary>
    public static byte[] Png(byte[] pixels)
    {
        using var image = Image.LoadPixelData<L8>(pixels, Side, Side);
        using var png = new MemoryStream();
        image.SaveAsPng(png);
        return png.ToArray();
    }
}
