using Qnn.Format;
using Qnn.TestSupport;

namespace Qnn.Devices.Tests;

/// <summary>The Raspberry Pi app's command line, run in-process on files only (no bus is opened without --oled/--matrix/--button-pin).</summary>
[Collection(nameof(ConsoleCollection))]
public sealed class PiProgramTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static ConsoleCapture.Result Run(params string[] args) =>
        ConsoleCapture.Run(() => global::Qnn.Devices.RaspberryPi.Program.BuildCommand().Parse(args).InvokeAsync().GetAwaiter().GetResult());

    [Fact]
    public void Image_files_are_classified_with_their_latency_then_the_app_exits()
    {
        var model = Mlps.Micro(seed: 9);
        string path = _temp.File("m.qnn");
        ModelWriter.WriteFile(model, path);
        var rng = new Random(4);
        var images = Enumerable.Range(0, 3).Select(i =>
        {
            string file = _temp.File($"in{i}.raw");
            File.WriteAllBytes(file, RandomModels.Image(rng, model));
            return file;
        }).ToArray();

        var run = Run(["--model", path, "--image", .. images]);
        Assert.True(run.ExitCode == 0, run.Error);
        string[] lines = run.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        for (int i = 0; i < 3; i++)
        {
            Assert.StartsWith(images[i] + ": class ", lines[i]);
            Assert.Matches(@"inference \d+\.\d{3} ms  preprocess \d+\.\d ms", lines[i]);
        }
    }

    [Fact]
    public void A_png_is_converted_and_classified_as_the_reference_does_its_pixels()
    {
        var model = ImageModels.Create(seed: 3);
        string path = _temp.File("conv.qnn");
        ModelWriter.WriteFile(model, path);
        byte[] pixels = RandomModels.Image(new Random(8), model);
        int expected = new Qnn.Runtime.Edge.Interpreter(model).Run(pixels, new int[10]);
        string png = _temp.File("picture.png");
        File.WriteAllBytes(png, ImageModels.Png(pixels));

        var run = Run("--model", path, "--image", png, "--json");
        Assert.True(run.ExitCode == 0, run.Error);
        using var line = System.Text.Json.JsonDocument.Parse(run.Out);
        Assert.Equal(expected, line.RootElement.GetProperty("class").GetInt32());
        Assert.Equal($"digit {expected}", line.RootElement.GetProperty("label").GetString());
        Assert.True(line.RootElement.GetProperty("inferenceMs").GetDouble() >= 0);
    }

    [Fact]
    public void Bad_model_missing_inputs_and_unreadable_images_are_one_line_errors()
    {
        var missingModel = Run("--model", _temp.File("none.qnn"), "--image", "x.raw");
        Assert.Equal(1, missingModel.ExitCode);
        Assert.Contains("none.qnn: no such file", missingModel.Error);

        string path = _temp.File("m.qnn");
        ModelWriter.WriteFile(Mlps.Micro(), path);
        var nothing = Run("--model", path);
        Assert.Equal(1, nothing.ExitCode);
        Assert.Contains("nothing to classify", nothing.Error);

        string broken = _temp.File("broken.png");
        File.WriteAllBytes(broken, [0x89, 0x50, 0x4E, 0x47, 1, 2, 3]);
        var bad = Run("--model", path, "--image", broken);
        Assert.Equal(1, bad.ExitCode);
        Assert.StartsWith(broken + ": ", bad.Out);
        Assert.DoesNotContain("   at ", bad.Out + bad.Error);
    }
}
