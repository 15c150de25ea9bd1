namespace Qnn.Format;

/// <summary>
/// The image a model's input stands for (SPEC 2.5): its H × W × C, or, for a 1 × 1 × N vector input (a dense first
/// layer over a flattened image), the `image_shape` metadata `HxWxC` when H·W·C = N. The trainer's exporter writes
/// the key; `qnn run` and the Raspberry Pi app convert images to it; `qnn verify` and `qnn eval` ask an image folder
/// for it.
/// </summary>
public static class ImageShape
{
    public const string MetadataKey = "image_shape";

    /// <summary>The image shape of <paramref name="model"/>; an <see cref="InvalidDataException"/> when its metadata disagrees with its input.</summary>
    public static (int Height, int Width, int Channels) Of(QnnModel model)
    {
        if (model.InputHeight == 1 && model.InputWidth == 1 && model.GetMetadata(MetadataKey) is { } shape)
        {
            string[] parts = shape.Split('x');
            if (parts.Length == 3 && int.TryParse(parts[0], out int h) && int.TryParse(parts[1], out int w) &&
                int.TryParse(parts[2], out int c) && h > 0 && w > 0 && c > 0 && (long)h * w * c == model.InputChannels)
                return (h, w, c);
            throw new InvalidDataException($"the model's {MetadataKey} metadata \"{shape}\" does not describe its {model.InputChannels}-value input");
        }
        return (model.InputHeight, model.InputWidth, model.InputChannels);
    }
}
