using System.Text.Json;
using Qnn.Format;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace Qnn.Cli.Tests;

/// <summary>
/// Issue 14 end to end on a small colour image folder: `qnn data info`, `qnn train --arch paper-cifar10` (narrow),
/// the class folders as the model's labels, `qnn verify` identical on the portable, fast and GPU runtimes, `qnn run`
/// on a colour JPEG; and data files of every new kind that are broken give one line naming the file, exit 1.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class ColourFolderFlowTests : TempFolderTest
{
    private static readonly (string Name, Rgb24 Colour)[] Classes = [("amber", new(230, 160, 20)), ("sky", new(40, 120, 230)), ("moss", new(60, 150, 50))];

    /// <summary>Per class 15 noisy 12 × 12 images of its colour, PNG and JPEG, one of them grey; and one broken file.</summary>
    private string WriteFolder()
    {
        string root = Temp.File("photos");
        var rng = new Random(4);
        foreach (var (name, colour) in Classes)
        {
            Directory.CreateDirectory(Path.Combine(root, name));
            for (int i = 0; i < 15; i++)
            {
                using var image = new Image<Rgb24>(12, 12);
                for (int y = 0; y < 12; y++)
                    for (int x = 0; x < 12; x++)
                    {
                        byte Noise(byte v) => (byte)Math.Clamp(v + rng.Next(-40, 41), 0, 255);
                        image[x, y] = (x + y) % 5 == 0 ? new Rgb24(20, 20, 20) : new Rgb24(Noise(colour.R), Noise(colour.G), Noise(colour.B));
                    }
                string path = Path.Combine(root, name, $"{i:D2}.{(i % 3 == 0 ? "jpg" : "png")}");
                if (i == 7) { using var grey = image.CloneAs<L8>(); grey.Save(path); }
                else image.Save(path);
            }
        }
        File.WriteAllBytes(Path.Combine(root, "sky", "truncated.jpg"), [0xFF, 0xD8, 0xFF, 0xE0, 0, 16]);
        return root;
    }

    private static JsonElement Json(ConsoleCapture.Result r)
    {
        Assert.True(r.ExitCode == 0, r.Error);
        return JsonDocument.Parse(r.Out).RootElement;
    }

    [Fact]
    public void A_colour_folder_trains_a_paper_convnet_that_every_runtime_runs_identically_and_that_classifies_a_jpeg()
    {
        string root = WriteFolder();
        var info = Json(QnnCommand.Run("data", "info", "folder:" + root, "--json"));
        Assert.Equal(3, info[0].GetProperty("channels").GetInt32());
        Assert.Equal(12, info[0].GetProperty("height").GetInt32());
        int tests = info[1].GetProperty("count").GetInt32();
        Assert.Equal(45, info[0].GetProperty("count").GetInt32() + tests);   // one in five of each class is a test image
        Assert.InRange(tests, 8, 9);
        Assert.Equal(1, info[0].GetProperty("skipped").GetInt32());

        string model = Temp.File("c.qnn");
        var train = QnnCommand.Run("train", "--dataset", "folder:" + root, "--channels", "3", "--arch", "paper-cifar10", "--width", "2",
            "--batch", "10", "--epochs", "2", "--shift", "0", "--out", model, "--json");
        Assert.True(train.ExitCode == 0, train.Error);
        Assert.Contains("truncated.jpg", train.Error);   // the unreadable image is listed, not fatal
        var summary = JsonDocument.Parse(train.Out).RootElement;
        Assert.Equal(summary.GetProperty("testAccuracy").GetDouble(), summary.GetProperty("floatAccuracy").GetDouble(), 3);

        QnnModel m = ModelFile.Load(model);
        Assert.Equal((12, 12, 3), (m.InputHeight, m.InputWidth, m.InputChannels));
        Assert.Equal(["amber", "moss", "sky"], m.Labels!);

        var verify = Json(QnnCommand.Run("verify", model, "--dataset", "folder:" + root, "--runtimes", "portable,fast,gpu", "--json"));
        Assert.True(verify.GetProperty("match").GetBoolean());
        Assert.Equal(tests, verify.GetProperty("samples").GetInt32());

        string photo = Temp.File("photo.jpg");
        using (var image = new Image<Rgb24>(40, 30, new Rgb24(40, 120, 230))) image.Save(photo);
        var fast = Json(QnnCommand.Run("run", model, "--input", photo, "--json"));
        var portable = Json(QnnCommand.Run("run", model, "--input", photo, "--runtime", "portable", "--json"));
        Assert.Equal("image", fast.GetProperty("inputKind").GetString());
        Assert.Contains(fast.GetProperty("label").GetString(), Classes.Select(c => c.Name));
        Assert.Equal(fast.GetProperty("scores").ToString(), portable.GetProperty("scores").ToString());
    }

    [Fact]
    public void Broken_files_of_every_new_data_set_kind_give_one_line_naming_the_file()
    {
        void Refused(string spec, string start)
        {
            var r = QnnCommand.Run("data", "info", spec);
            Assert.Equal(1, r.ExitCode);
            string line = r.Error.Trim();
            Assert.DoesNotContain('\n', line);
            Assert.StartsWith("qnn data info: " + start, line);
        }
        Directory.CreateDirectory(Temp.File("cifar"));
        File.WriteAllBytes(Temp.File("cifar/data_batch_1.bin"), new byte[3073 * 2 + 5]);
        Refused("cifar10:" + Temp.File("cifar"), Temp.File("cifar/data_batch_1.bin") + ": 6151 bytes is not a whole number of 3073-byte records");
        Directory.CreateDirectory(Temp.File("svhn"));
        File.WriteAllBytes(Temp.File("svhn/train_32x32.mat"), new byte[200]);
        Refused("svhn:" + Temp.File("svhn"), Temp.File("svhn/train_32x32.mat") + ": not a MATLAB 5 MAT-file");
        Refused("folder:" + Temp.File("nothing"), Temp.File("nothing") + ": no such folder");
        Refused("cifar7:x", "unknown data set \"cifar7:x\"");
        var bad = QnnCommand.Run("train", "--dataset", "folder:" + Temp.Path, "--channels", "2");
        Assert.Equal(1, bad.ExitCode);
        Assert.Equal("qnn train: --channels 2: images convert to 1 (grey) or 3 (RGB) channels", bad.Error.Trim());
        bad = QnnCommand.Run("data", "info", "folder:" + Temp.Path, "--image-size", "12");
        Assert.Equal("qnn data info: --image-size \"12\": give HxW, each side 1-4096 (e.g. 32x32)", bad.Error.Trim());
    }
}
