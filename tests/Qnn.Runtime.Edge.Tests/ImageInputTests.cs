using System.Text;
using Qnn.Format;
using Qnn.Runtime.Edge.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Qnn.Runtime.Edge.Tests;

public sealed class ImageInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qnn-image-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static QnnModel Model(int h, int w, int c, int flags) =>
        new() { InputHeight = h, InputWidth = w, InputChannels = c, InputBits = 8, ClassCount = 2, PreprocessFlags = flags };

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] Pattern(int n) => Enumerable.Range(0, n).Select(i => (byte)(i * 37 % 256)).ToArray();

    [Fact]
    public void Raw_bytes_of_the_input_size_are_used_as_they_are()
    {
        var pixels = Pattern(5 * 7 * 3);
        var result = ImageInput.Load(Write("x.raw", pixels), Model(5, 7, 3, Preprocess.Invert | Preprocess.Center), out var source);
        Assert.Equal(ImageInput.Source.Raw, source);
        Assert.Equal(pixels, result);
    }

    [Fact]
    public void A_binary_PGM_is_read_and_inverted_when_the_model_asks()
    {
        var pixels = Pattern(28 * 28);
        var pgm = Encoding.ASCII.GetBytes("P5\n28 28\n255\n").Concat(pixels).ToArray();
        string path = Write("digit.pgm", pgm);
        Assert.Equal(pixels, ImageInput.Load(path, Model(28, 28, 1, 0), out var source));
        Assert.Equal(ImageInput.Source.Image, source);
        Assert.Equal(pixels.Select(p => (byte)(255 - p)).ToArray(), ImageInput.Load(path, Model(28, 28, 1, Preprocess.Invert)));
    }

    [Fact]
    public void A_flattened_input_converts_images_to_its_image_shape_metadata()
    {
        var pixels = Pattern(28 * 28);
        var pgm = Encoding.ASCII.GetBytes("P5\n28 28\n255\n").Concat(pixels).ToArray();
        string path = Write("flat.pgm", pgm);
        var flat = Model(1, 1, 784, 0);
        flat.MetadataKeys = ["image_shape"];
        flat.MetadataValues = ["28x28x1"];
        Assert.Equal(pixels, ImageInput.Load(path, flat));
        flat.MetadataValues = ["27x28x1"];
        var e = Assert.Throws<InvalidDataException>(() => ImageInput.Load(path, flat));
        Assert.Contains("image_shape", e.Message);
    }

    [Fact]
    public void A_PNG_keeps_its_RGB_channels_for_a_three_channel_model()
    {
        var pixels = Pattern(6 * 4 * 3);
        using var image = Image.LoadPixelData<Rgb24>(pixels, 4, 6);
        string path = Path.Combine(_dir, "rgb.png");
        image.SaveAsPng(path);
        Assert.Equal(pixels, ImageInput.Load(path, Model(6, 4, 3, 0)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Centering_puts_the_content_box_in_the_middle_at_MNIST_scale(bool darkOnLight)
    {
        // A 12 × 6 bar near the top-left corner of a 60 × 40 image.
        byte background = darkOnLight ? (byte)255 : (byte)0, ink = (byte)(255 - background);
        var pixels = Enumerable.Repeat(background, 60 * 40).ToArray();
        for (int y = 3; y < 15; y++)
            for (int x = 2; x < 8; x++) pixels[y * 40 + x] = ink;
        using var image = Image.LoadPixelData<L8>(pixels, 40, 60);
        string path = Path.Combine(_dir, "bar.png");
        image.SaveAsPng(path);
        var input = ImageInput.Load(path, Model(28, 28, 1, Preprocess.Center | (darkOnLight ? Preprocess.Invert : 0)));
        // After inversion (when asked) the content is bright: find its bounding box in the 28 × 28 result.
        int top = 28, bottom = -1, left = 28, right = -1;
        for (int y = 0; y < 28; y++)
            for (int x = 0; x < 28; x++)
                if (input[y * 28 + x] > 127) { top = Math.Min(top, y); bottom = Math.Max(bottom, y); left = Math.Min(left, x); right = Math.Max(right, x); }
        int height = bottom - top + 1, width = right - left + 1;
        Assert.InRange(height, 19, 21);                 // the longer side takes 20 of 28 pixels
        Assert.InRange(width, 9, 11);                   // aspect ratio kept
        Assert.InRange(top - (27 - bottom), -1, 1);     // centered vertically
        Assert.InRange(left - (27 - right), -1, 1);     // and horizontally
    }

    [Fact]
    public void A_file_that_is_neither_an_image_nor_raw_input_is_refused_by_name()
    {
        string path = Write("notes.txt", Encoding.ASCII.GetBytes("not an image at all"));
        var e = Assert.Throws<InvalidDataException>(() => ImageInput.Load(path, Model(28, 28, 1, 0)));
        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains("784 bytes", e.Message);
        string missing = Path.Combine(_dir, "missing.png");
        Assert.Equal($"{missing}: no such file", Assert.Throws<FilePolicyException>(() => ImageInput.Load(missing, Model(28, 28, 1, 0))).Message);
    }

    [Fact]
    public void A_model_with_neither_one_nor_three_channels_is_refused()
    {
        using var image = new Image<L8>(4, 4);
        Assert.Throws<InvalidDataException>(() => ImageInput.FromImage(image, Model(4, 4, 2, 0)));
    }
}
