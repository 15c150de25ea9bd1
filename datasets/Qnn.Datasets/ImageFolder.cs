using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Qnn.Format;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Qnn.Datasets;

/// <summary>
/// A folder of images with one subfolder per class (the subfolder's name is the class's label), as
/// <c>--dataset folder:PATH</c>. When PATH holds <c>train/</c> and <c>test/</c>, each holds the class subfolders;
/// otherwise one in <see cref="TestShare"/> of each class's images, chosen with a fixed seed, are the test part.
/// PNG, JPEG, BMP, GIF (first frame) and PGM/PPM files are read through ImageSharp; other files are ignored; a file that
/// cannot be read is skipped and listed. The images are converted as <c>qnn run</c> converts a photo (ImageInput
/// without preprocessing): to 8-bit grey (ImageSharp's L8) or RGB, then resized to H × W. The decoded set is cached
/// (<see cref="CacheFile"/>) keyed by every file's path, size and modification time and the shape asked for.
/// </summary>
public static class ImageFolder
{
    public static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp", ".gif", ".pgm", ".ppm", ".pbm"];

    /// <summary>Without train/ and test/: one image in five of each class (rounded down) is a test image.</summary>
    public const int TestShare = 5;

    /// <summary>The seed of that split (System.Random's seeded sequence is fixed across .NET versions).</summary>
    public const int SplitSeed = 14;

    /// <summary>Image files are read up to this size, and up to this many pixels (as ImageInput, README's Limits).</summary>
    public const long MaxFileBytes = 256L << 20, MaxPixels = 64L << 20;

    /// <summary>The cache format's version: a change of the conversion or the split must change it.</summary>
    private const int CacheVersion = 2;

    private sealed record Item(string Path, string Relative, int Class, bool Test, long Bytes, long Ticks);

    /// <summary>Loads <paramref name="root"/>, from the cache in <paramref name="cacheRoot"/> (default <see cref="DataCache.Root"/>) when it is there.</summary>
    public static DatasetSplit Load(string root, ImageRequest request, IProgress<FetchProgress>? progress = null, string? cacheRoot = null)
    {
        if (!Directory.Exists(root)) throw new DatasetFormatException($"{root}: no such folder (--dataset folder:PATH names a folder with one subfolder per class)");
        root = Path.GetFullPath(root);
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(root));
        var (items, classes) = List(root);
        string key = Key(root, items, request);
        string folders = Path.Combine(cacheRoot ?? DataCache.Root, "folders");
        string cache = Path.Combine(folders, key + ".bin");
        if (File.Exists(cache) && ReadCache(cache, name) is { } cached)
        {
            Touch(cache);
            return cached;
        }
        var split = Decode(items, classes, request, name, progress);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(cache)!);
            byte[] bytes = WriteCache(split);
            OutputFile.WriteAllBytes(cache, bytes);
            // Also under the shape the defaults resolved to: `qnn verify` and `qnn eval` ask for the model's shape.
            var resolved = new ImageRequest(split.Train.Height, split.Train.Width, split.Train.Channels);
            if (resolved != request) OutputFile.WriteAllBytes(Path.Combine(folders, Key(root, items, resolved) + ".bin"), bytes);
            Prune(folders, DateTime.UtcNow);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A cache that cannot be written costs the next run the decoding again, nothing more.
        }
        return split;
    }

    /// <summary>A cache entry unused for this long is removed when another folder is cached.</summary>
    public static readonly TimeSpan CacheUnusedFor = TimeSpan.FromDays(30);

    /// <summary>The folder caches together are kept under this size, the least recently used removed first.</summary>
    public const long CacheBudgetBytes = 4L << 30;

    /// <summary>
    /// Removes our cache entries (files named as <see cref="Key"/> names them: 16 hex digits and .bin, nothing else) that were not used for
    /// <see cref="CacheUnusedFor"/>, then the least recently used until the rest fit <see cref="CacheBudgetBytes"/>.
    /// A cache hit renews an entry's time. Failures are ignored: another process may be removing the same file.
    /// </summary>
    public static int Prune(string folders, DateTime nowUtc, long budgetBytes = CacheBudgetBytes)
    {
        int removed = 0;
        try
        {
            var entries = new DirectoryInfo(folders).EnumerateFiles("*.bin")
                .Where(f => f.Name.Length == 20 && f.Name[..16].All(char.IsAsciiHexDigitLower) && (f.Attributes & FileAttributes.ReparsePoint) == 0)
                .OrderByDescending(f => f.LastWriteTimeUtc).ToList();
            long kept = 0;
            foreach (var f in entries)
            {
                bool stale = nowUtc - f.LastWriteTimeUtc > CacheUnusedFor;
                if (!stale && kept + f.Length <= budgetBytes) { kept += f.Length; continue; }
                try { f.Delete(); removed++; }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return removed;
    }

    private static void Touch(string path)
    {
        try { File.SetLastWriteTimeUtc(path, DateTime.UtcNow); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>The class folders (ordinal order) and every image file, with its part.</summary>
    private static (List<Item> Items, string[] Classes) List(string root)
    {
        string train = Path.Combine(root, "train"), test = Path.Combine(root, "test");
        bool parted = Directory.Exists(train) && Directory.Exists(test);
        string[] classes = ClassFolders(parted ? train : root);
        if (classes.Length == 0) throw new DatasetFormatException($"{(parted ? train : root)}: no class subfolders (one subfolder per class, named by its label)");
        foreach (string c in classes)
            if (Encoding.UTF8.GetByteCount(c) > FormatConstants.MaxLabelBytes)
                throw new DatasetFormatException($"{Path.Combine(parted ? train : root, c)}: a class folder's name is its label, at most {FormatConstants.MaxLabelBytes} bytes");
        if (classes.Length > 256) throw new DatasetFormatException($"{root}: {classes.Length} class folders, at most 256");
        var items = new List<Item>();
        if (parted)
        {
            string? unknown = ClassFolders(test).FirstOrDefault(c => !classes.Contains(c, StringComparer.Ordinal));
            if (unknown is not null) throw new DatasetFormatException($"{Path.Combine(test, unknown)}: a test class with no folder in {train}");
            for (int c = 0; c < classes.Length; c++)
            {
                items.AddRange(Files(train, classes[c], root).Select(f => f with { Class = c }));
                if (Directory.Exists(Path.Combine(test, classes[c])))
                    items.AddRange(Files(test, classes[c], root).Select(f => f with { Class = c, Test = true }));
            }
        }
        else
        {
            var rng = new Random(SplitSeed);
            for (int c = 0; c < classes.Length; c++)
            {
                var files = Files(root, classes[c], root).ToArray();
                var order = Enumerable.Range(0, files.Length).ToArray();
                rng.Shuffle(order);
                int tests = files.Length / TestShare;
                var isTest = new bool[files.Length];
                for (int i = 0; i < tests; i++) isTest[order[i]] = true;
                items.AddRange(files.Select((f, i) => f with { Class = c, Test = isTest[i] }));
            }
        }
        if (!items.Any(i => !i.Test)) throw new DatasetFormatException($"{root}: no training images ({string.Join(", ", Extensions)})");
        if (!items.Any(i => i.Test)) throw new DatasetFormatException($"{root}: no test images (put at least {TestShare} images in a class, or a test/ folder beside train/)");
        return (items, classes);
    }

    private static string[] ClassFolders(string dir) =>
        Directory.GetDirectories(dir).Select(Path.GetFileName).Where(n => !n!.StartsWith('.')).Order(StringComparer.Ordinal).ToArray()!;

    private static IEnumerable<Item> Files(string partDir, string cls, string root) =>
        Directory.GetFiles(Path.Combine(partDir, cls))
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()) && !Path.GetFileName(f).StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .Select(f =>
            {
                var info = new FileInfo(f);
                return new Item(f, Path.GetRelativePath(root, f), 0, false, info.Length, info.LastWriteTimeUtc.Ticks);
            });

    /// <summary>The cache file of <paramref name="root"/> decoded as <paramref name="request"/> asks, for tests: null when it has none.</summary>
    public static string? CachePath(string root, ImageRequest request, string? cacheRoot = null)
    {
        root = Path.GetFullPath(root);
        string path = Path.Combine(cacheRoot ?? DataCache.Root, "folders", Key(root, List(root).Items, request) + ".bin");
        return File.Exists(path) ? path : null;
    }

    /// <summary>The cache key: XxHash3 of the folder, every file's relative path, size and modification time, and the shape asked for.</summary>
    private static string Key(string root, List<Item> items, ImageRequest r)
    {
        var hash = new XxHash3();
        void Add(string s) { hash.Append(Encoding.UTF8.GetBytes(s)); hash.Append([0]); }
        Add($"qnn-folder v{CacheVersion} {r.Height}x{r.Width}x{r.Channels}");
        Add(root);
        foreach (var i in items) Add($"{i.Relative}|{i.Bytes}|{i.Ticks}|{i.Class}|{i.Test}");
        return System.Convert.ToHexStringLower(hash.GetCurrentHash());
    }

    private static DatasetSplit Decode(List<Item> items, string[] classes, ImageRequest request, string name, IProgress<FetchProgress>? progress)
    {
        // First the headers: the default size is the most common one, the default channels 3 when any file is in colour.
        var skipped = new List<string>();
        var readable = new List<Item>();   // the bytes are read again to decode: a folder of photos need not fit in memory twice
        var sizes = new Dictionary<(int H, int W), int>();
        bool colour = false;
        int done = 0;
        foreach (var item in items)
        {
            progress?.Report(new FetchProgress("reading image headers", ++done, items.Count));
            try
            {
                byte[] bytes = InputFile.ReadAllBytes(item.Path, MaxFileBytes, "an image");
                var info = Image.Identify(bytes) ?? throw new InvalidDataException("not an image ImageSharp can read");
                if (info.Width < 1 || info.Height < 1 || (long)info.Width * info.Height > MaxPixels)
                    throw new InvalidDataException($"declares {info.Width}x{info.Height} pixels (1 to {MaxPixels >> 20} megapixels)");
                sizes[(info.Height, info.Width)] = sizes.GetValueOrDefault((info.Height, info.Width)) + 1;
                // Colour is what the pixels show, not what the file stores (a grey photo saved as RGB JPEG is grey):
                // decoded until the first colour image is found, and only when --channels leaves it open.
                if (request.Channels == 0 && !colour) colour = HasColour(bytes);
                readable.Add(item);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                skipped.Add($"{item.Path}: {OneLine(e.Message)}");
            }
        }
        if (readable.Count == 0) throw new DatasetFormatException($"{Path.GetDirectoryName(items[0].Path)}: none of the {items.Count} images can be read (first: {skipped[0]})");
        var common = sizes.OrderByDescending(kv => kv.Value).ThenByDescending(kv => kv.Key.H * kv.Key.W).First().Key;
        int h = request.Height > 0 ? request.Height : common.H, w = request.Width > 0 ? request.Width : common.W;
        int c = request.Channels > 0 ? request.Channels : colour ? 3 : 1;
        if (c is not (1 or 3)) throw new ArgumentException($"--channels {c}: images convert to 1 (grey) or 3 (RGB) channels");
        long sample = (long)h * w * c;
        if (sample * readable.Count > Array.MaxLength) throw new DatasetFormatException($"{name}: {readable.Count} images of {h}x{w}x{c} do not fit in memory (pass a smaller --image-size)");

        var train = new List<(byte[] Pixels, byte Label)>();
        var test = new List<(byte[] Pixels, byte Label)>();
        done = 0;
        foreach (var item in readable)
        {
            progress?.Report(new FetchProgress("decoding images", ++done, readable.Count));
            try
            {
                using var image = Image.Load(InputFile.ReadAllBytes(item.Path, MaxFileBytes, "an image"));
                (item.Test ? test : train).Add((Convert(image, h, w, c), (byte)item.Class));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                skipped.Add($"{item.Path}: {OneLine(e.Message)}");
            }
        }
        // Files come class by class; the trainer holds out the end of the training part for validation, so the order is mixed.
        new Random(SplitSeed).Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(train));
        if (train.Count == 0 || test.Count == 0) throw new DatasetFormatException($"{name}: no readable {(train.Count == 0 ? "training" : "test")} images ({skipped.Count} skipped, first: {skipped.FirstOrDefault()})");
        return new DatasetSplit(Part(train, h, w, c, classes, name + "/train"), Part(test, h, w, c, classes, name + "/test")) { Skipped = skipped };
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");

    /// <summary>Whether any pixel's red, green and blue differ.</summary>
    private static bool HasColour(byte[] bytes)
    {
        using var image = Image.Load<Rgb24>(bytes);
        bool colour = false;
        image.ProcessPixelRows(rows =>
        {
            for (int y = 0; y < rows.Height && !colour; y++)
                foreach (var p in rows.GetRowSpan(y))
                    if (p.R != p.G || p.G != p.B) { colour = true; break; }
        });
        return colour;
    }

    /// <summary>The conversion of ImageInput.FromImage without its preprocessing: grey (L8) or RGB, then resized to H × W.</summary>
    public static byte[] Convert(Image image, int h, int w, int c)
    {
        if (c == 1)
        {
            using var gray = image.CloneAs<L8>();
            gray.Mutate(x => x.Resize(w, h));
            var pixels = new byte[h * w];
            gray.CopyPixelDataTo(pixels);
            return pixels;
        }
        using var rgb = image.CloneAs<Rgb24>();
        rgb.Mutate(x => x.Resize(w, h));
        var data = new byte[h * w * 3];
        rgb.CopyPixelDataTo(data);
        return data;
    }

    private static Dataset Part(List<(byte[] Pixels, byte Label)> samples, int h, int w, int c, string[] classes, string name)
    {
        int size = h * w * c;
        var pixels = new byte[(long)samples.Count * size];
        for (int i = 0; i < samples.Count; i++) samples[i].Pixels.CopyTo(pixels, (long)i * size);
        return new Dataset
        {
            Name = name, Height = h, Width = w, Channels = c, Pixels = pixels, Labels = samples.Select(s => s.Label).ToArray(),
            ClassCount = Math.Max(2, classes.Length), ClassNames = classes.Length >= 2 ? classes : [.. classes, "(none)"],
        };
    }

    // The cache file: "QNNFOLD1", u32 version, u32 H, W, C, classes, train count, test count, skipped count; the class
    // names and skipped lines (u32 length + UTF-8 each); the train labels and pixels, the test labels and pixels;
    // then the XxHash3 of everything before it (8 bytes). A file that fails any check is decoded again.
    private static readonly byte[] Magic = "QNNFOLD1"u8.ToArray();

    private static byte[] WriteCache(DatasetSplit split)
    {
        var s = new MemoryStream();
        var w = new BinaryWriter(s);
        w.Write(Magic);
        var (tr, te) = (split.Train, split.Test);
        foreach (int v in new[] { CacheVersion, tr.Height, tr.Width, tr.Channels, tr.ClassCount, tr.Count, te.Count, split.Skipped.Count }) w.Write(v);
        foreach (string t in tr.ClassNames!.Concat(split.Skipped)) { var b = Encoding.UTF8.GetBytes(t); w.Write(b.Length); w.Write(b); }
        w.Write(tr.Labels); w.Write(tr.Pixels); w.Write(te.Labels); w.Write(te.Pixels);
        w.Flush();
        w.Write(XxHash3.HashToUInt64(s.GetBuffer().AsSpan(0, (int)s.Length)));
        return s.ToArray();
    }

    private static DatasetSplit? ReadCache(string path, string name)
    {
        try
        {
            byte[] b = InputFile.ReadAllBytes(path, Array.MaxLength, "a decoded image folder");
            if (b.Length < Magic.Length + 40 || !b.AsSpan(0, Magic.Length).SequenceEqual(Magic)) return null;
            if (XxHash3.HashToUInt64(b.AsSpan(0, b.Length - 8)) != BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(b.Length - 8))) return null;
            var r = new BinaryReader(new MemoryStream(b, 0, b.Length - 8));
            r.ReadBytes(Magic.Length);
            if (r.ReadInt32() != CacheVersion) return null;
            int h = r.ReadInt32(), w = r.ReadInt32(), c = r.ReadInt32(), classes = r.ReadInt32(), nTrain = r.ReadInt32(), nTest = r.ReadInt32(), nSkipped = r.ReadInt32();
            string Text() => Encoding.UTF8.GetString(r.ReadBytes(r.ReadInt32()));
            var names = Enumerable.Range(0, classes).Select(_ => Text()).ToArray();
            var skipped = Enumerable.Range(0, nSkipped).Select(_ => Text()).ToList();
            Dataset Part(int n, string part)
            {
                var labels = r.ReadBytes(n);
                var pixels = r.ReadBytes(n * h * w * c);
                if (labels.Length != n || pixels.Length != n * h * w * c) throw new EndOfStreamException();
                return new Dataset { Name = name + part, Height = h, Width = w, Channels = c, Pixels = pixels, Labels = labels, ClassCount = classes, ClassNames = names };
            }
            return new DatasetSplit(Part(nTrain, "/train"), Part(nTest, "/test")) { Skipped = skipped };
        }
        catch (Exception e) when (e is IOException or ArgumentException or OverflowException)
        {
            return null;
        }
    }
}
