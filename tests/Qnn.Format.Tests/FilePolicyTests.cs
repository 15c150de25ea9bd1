using System.Diagnostics;

namespace Qnn.Format.Tests;

/// <summary>
/// The output policy (<see cref="OutputFile"/>) and the input policy (<see cref="InputFile"/>) on their own:
/// what they refuse and why, concurrent writers, and the clean-up of what killed writers left.
/// </summary>
public sealed class FilePolicyTests : TempFolderTest
{
    /// <summary>Makes a FIFO with mkfifo(1); the tests that need one are skipped where there is none (Windows).</summary>
    public static bool MakeFifo(string path)
    {
        if (OperatingSystem.IsWindows()) return false;
        using var p = Process.Start(new ProcessStartInfo("mkfifo", [path]) { RedirectStandardError = true })!;
        p.WaitForExit();
        return p.ExitCode == 0;
    }

    [Fact]
    public void A_folder_a_link_or_a_FIFO_at_an_output_path_is_refused_and_left_as_it_was()
    {
        string target = Temp.File("target.txt");
        File.WriteAllText(target, "keep");
        string link = Temp.File("link.txt");
        File.CreateSymbolicLink(link, target);
        Directory.CreateDirectory(Temp.File("folder"));
        var cases = new List<(string Path, string Says)> { (link, "is a symbolic link"), (Temp.File("folder"), "is a folder") };
        if (MakeFifo(Temp.File("fifo"))) cases.Add((Temp.File("fifo"), "is a FIFO (named pipe)"));
        foreach (var (path, says) in cases)
        {
            var e = Assert.Throws<FilePolicyException>(() => OutputFile.WriteAllBytes(path, [1, 2, 3]));
            Assert.Equal($"{path}: {says}; qnn writes only regular files and never replaces anything else", e.Message);
            var c = Assert.Throws<FilePolicyException>(() => OutputFile.CheckAll([("--out", path)], []));
            Assert.StartsWith($"--out {path}: {says}", c.Message);
        }
        Assert.Equal("keep", File.ReadAllText(target));
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.Equal(FileKind.Directory, FileKinds.Of(Temp.File("folder"), followLinks: false));
        Assert.Equal(FileKind.CharacterDevice, FileKinds.Of("/dev/null", followLinks: false));
        Assert.Throws<FilePolicyException>(() => OutputFile.Check("/dev/null", "--out"));
    }

    [Fact]
    public void Outputs_are_checked_for_emptiness_folders_and_sameness_with_inputs_and_each_other()
    {
        string model = Temp.File("m.qnn");
        File.WriteAllBytes(model, [1]);
        string alias = Temp.File("alias.qnn");
        File.CreateSymbolicLink(alias, model);
        string Refused(IEnumerable<(string, string?)> outputs, IEnumerable<(string, string?)> inputs) =>
            Assert.Throws<FilePolicyException>(() => OutputFile.CheckAll(outputs, inputs)).Message;

        Assert.Equal("--out: the path is empty; give a file name", Refused([("--out", "")], []));
        Assert.Equal($"--out {Temp.Path}/: names a folder; give a file name", Refused([("--out", Temp.Path + "/")], []));
        Assert.Equal($"--out {Temp.File("no/m.qnn")}: the folder {Temp.File("no")} does not exist", Refused([("--out", Temp.File("no/m.qnn"))], []));
        Assert.Equal($"--out {model}/x: {model} is a regular file, not a folder", Refused([("--out", model + "/x")], []));
        Assert.Equal($"--onnx {model}: the same file as the model {model}; an output never replaces an input",
            Refused([("--onnx", model)], [("the model", model)]));
        Assert.Equal($"--onnx {model}: the same file as the model {alias}; an output never replaces an input",
            Refused([("--onnx", model)], [("the model", alias)]));
        Assert.Equal($"--log {Temp.File("x")}: the same file as --out {Temp.File("x")}; give each output its own path",
            Refused([("--out", Temp.File("x")), ("--checkpoint", Temp.File("y")), ("--log", Temp.File("x"))], []));
        // A relative path and an absolute one of the same missing file are one file too.
        string relative = Path.GetRelativePath(Environment.CurrentDirectory, Temp.File("new.qnn"));
        Assert.Contains("the same file as", Refused([("--out", Temp.File("new.qnn")), ("--plot", relative)], []));
        OutputFile.CheckAll([("--out", Temp.File("a")), ("--log", Temp.File("b"))], [("the model", model)]);
        Assert.Equal(["alias.qnn", "m.qnn"], Directory.GetFileSystemEntries(Temp.Path).Select(Path.GetFileName).Order());
    }

    /// <summary>The folder flush after a rename reaches fsync on Linux (it did nothing before), and says so where it cannot.</summary>
    [Fact]
    public void The_folder_is_flushed_after_a_rename_on_linux()
    {
        string path = Temp.File("flushed.txt");
        OutputFile.WriteAllText(path, "one");
        Assert.Equal("one", File.ReadAllText(path));
        if (OperatingSystem.IsLinux()) Assert.True(FolderSync.Flush(Path.GetDirectoryName(path)!), "fsync of the folder failed");
        Assert.False(FolderSync.Flush(Path.Combine(Path.GetDirectoryName(path)!, "no-such-folder")));
    }

    [Fact]
    public void Concurrent_writers_leave_one_whole_file_and_no_temporaries()
    {
        string path = Temp.File("out.bin");
        var contents = Enumerable.Range(1, 8).Select(i => Enumerable.Repeat((byte)i, 100_000 * i).ToArray()).ToArray();
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => OutputFile.WriteAllBytes(path, contents[i % 8]));
        byte[] result = File.ReadAllBytes(path);
        Assert.Contains(contents, c => c.AsSpan().SequenceEqual(result));
        Assert.Equal(["out.bin"], Directory.GetFileSystemEntries(Temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Temporaries_of_dead_or_old_writers_are_removed_on_the_next_write_and_nothing_else()
    {
        string Touch(string name, TimeSpan age)
        {
            string p = Temp.File(name);
            File.WriteAllText(p, "partial");
            File.SetLastWriteTimeUtc(p, DateTime.UtcNow - age);
            return p;
        }
        int me = Environment.ProcessId;
        string dead = Touch(".m.qnn.999999999.0123456789abcdef.qnn-tmp", TimeSpan.Zero);
        string old = Touch($".m.qnn.{me}.0123456789abcdef.qnn-tmp", TimeSpan.FromHours(2));
        string live = Touch($".m.qnn.{me}.fedcba9876543210.qnn-tmp", TimeSpan.FromMinutes(1));
        string legacy = Touch("m.qnn.tmp", TimeSpan.FromDays(2));
        string unrelated = Touch(".notes.qnn-tmp", TimeSpan.FromDays(2));
        Assert.False(OutputFile.ProcessAlive(999_999_999));

        OutputFile.WriteAllBytes(Temp.File("other.qnn"), [7]);
        Assert.False(File.Exists(dead));
        Assert.False(File.Exists(old));
        Assert.True(File.Exists(live));   // a writer of this process may still be writing it
        Assert.True(File.Exists(legacy));
        Assert.True(File.Exists(unrelated));
        Assert.Equal([7], File.ReadAllBytes(Temp.File("other.qnn")));
    }

    [Fact]
    public void Inputs_must_be_regular_files_read_up_to_a_cap()
    {
        Directory.CreateDirectory(Temp.File("folder"));
        Assert.Equal($"{Temp.File("none")}: no such file", Assert.Throws<FilePolicyException>(() => InputFile.CheckRegular(Temp.File("none"))).Message);
        Assert.Equal($"{Temp.File("folder")}: is a folder, not a file", Assert.Throws<FilePolicyException>(() => InputFile.CheckRegular(Temp.File("folder"))).Message);
        Assert.Equal("/dev/zero: is a character device, not a regular file; qnn reads only regular files",
            Assert.Throws<FilePolicyException>(() => InputFile.ReadAllBytes("/dev/zero", 1 << 20, "a model")).Message);
        if (MakeFifo(Temp.File("fifo")))
            Assert.Equal($"{Temp.File("fifo")}: is a FIFO (named pipe), not a regular file; qnn reads only regular files",
                Assert.Throws<FilePolicyException>(() => InputFile.ReadAllBytes(Temp.File("fifo"), 1 << 20, "a model")).Message);

        File.WriteAllBytes(Temp.File("k"), new byte[1025]);
        Assert.Equal($"{Temp.File("k")}: 1,025 bytes, over the 1 KiB limit of a test",
            Assert.Throws<FilePolicyException>(() => InputFile.ReadAllBytes(Temp.File("k"), 1024, "a test")).Message);
        Assert.Equal(1025, InputFile.ReadAllBytes(Temp.File("k"), 1025, "a test").Length);
        File.CreateSymbolicLink(Temp.File("link"), Temp.File("k"));
        Assert.Equal(1025, InputFile.ReadAllBytes(Temp.File("link"), 4096, "a test").Length);
        // A file whose reported length is 0 but that has bytes (as /proc files) is still read to its end, bounded.
        Assert.NotEmpty(InputFile.ReadAllBytes("/proc/self/status", 1 << 20, "a test"));
        Assert.StartsWith("/proc/self/status: over the 16 bytes limit", Assert.Throws<FilePolicyException>(() => InputFile.ReadAllBytes("/proc/self/status", 16, "a test")).Message);
    }
}
