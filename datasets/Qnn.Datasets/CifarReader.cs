using System.Text;
using Qnn.Format;

namespace Qnn.Datasets;

/// <summary>
/// Reads the binary versions of CIFAR-10 and CIFAR-100 (https://www.cs.toronto.edu/~kriz/cifar.html): records of
/// label bytes (CIFAR-10: one; CIFAR-100: coarse then fine, the fine label is used) followed by 3,072 pixel bytes,
/// the 32 × 32 red plane, then green, then blue, rows top to bottom. Pixels are stored channels innermost (HWC).
/// </summary>
public static class CifarReader
{
    public const int Side = 32, Channels = 3, ImageBytes = Side * Side * Channels;

    /// <summary>The largest batch file read: CIFAR-10's are 30,730,000 bytes, CIFAR-100's train.bin 153,700,000.</summary>
    public const long MaxFileBytes = 256L << 20;

    public static readonly string[] Cifar10Train = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"];
    public const string Cifar10Test = "test_batch.bin", Cifar10Meta = "batches.meta.txt";
    public const string Cifar100Train = "train.bin", Cifar100Test = "test.bin", Cifar100Meta = "fine_label_names.txt";

    /// <summary>The folder holding the files: PATH itself or its `cifar-10-batches-bin` / `cifar-100-binary` subfolder (the archives' layout).</summary>
    public static string Folder(string path, bool hundred)
    {
        if (!Directory.Exists(path)) throw new DatasetFormatException($"{path}: no such folder");
        string sub = Path.Combine(path, hundred ? "cifar-100-binary" : "cifar-10-batches-bin");
        string probe = hundred ? Cifar100Test : Cifar10Test;
        return !File.Exists(Path.Combine(path, probe)) && File.Exists(Path.Combine(sub, probe)) ? sub : path;
    }

    public static DatasetSplit Load(string path, bool hundred)
    {
        string dir = Folder(path, hundred);
        int labelBytes = hundred ? 2 : 1, classes = hundred ? 100 : 10;
        string[] trainFiles = hundred ? [Cifar100Train] : Cifar10Train;
        string test = hundred ? Cifar100Test : Cifar10Test;
        string metaPath = Path.Combine(dir, hundred ? Cifar100Meta : Cifar10Meta);
        string[]? names = File.Exists(metaPath) ? ReadNames(metaPath, classes) : null;
        string name = hundred ? "cifar100" : "cifar10";
        var train = ReadRecords(trainFiles.Select(f => Path.Combine(dir, f)).ToArray(), labelBytes, classes, name + "/train", names);
        var testSet = ReadRecords([Path.Combine(dir, test)], labelBytes, classes, name + "/test", names);
        return new DatasetSplit(train, testSet);
    }

    /// <summary>Reads whole records from <paramref name="files"/>; every size is checked before anything is allocated.</summary>
    public static Dataset ReadRecords(string[] files, int labelBytes, int classes, string name, string[]? names)
    {
        int record = labelBytes + ImageBytes;
        long total = 0;
        foreach (string f in files)
        {
            if (!File.Exists(f)) throw new DatasetFormatException($"{f}: missing (a CIFAR binary folder holds {string.Join(", ", files.Select(Path.GetFileName))})");
            InputFile.CheckRegular(f);
            long length = new FileInfo(f).Length;
            if (length == 0 || length % record != 0)
                throw new DatasetFormatException($"{f}: {length} bytes is not a whole number of {record}-byte records ({labelBytes} label byte{(labelBytes > 1 ? "s" : "")} + {ImageBytes} pixels)");
            if (length > MaxFileBytes) throw new DatasetFormatException($"{f}: {length} bytes, over the {MaxFileBytes >> 20} MiB limit of a CIFAR batch file");
            total += length / record;
        }
        if (total * ImageBytes > Array.MaxLength) throw new DatasetFormatException($"{files[0]}: {total} images do not fit in one array");
        var pixels = new byte[total * ImageBytes];
        var labels = new byte[total];
        long n = 0;
        foreach (string f in files)
        {
            byte[] bytes = InputFile.ReadAllBytes(f, MaxFileBytes, "a CIFAR batch file");
            for (int r = 0; r < bytes.Length / record; r++, n++)
            {
                var rec = bytes.AsSpan(r * record, record);
                byte label = rec[labelBytes - 1];   // CIFAR-100: the fine label follows the coarse one
                if (label >= classes) throw new DatasetFormatException($"{f}: label {label} of record {r} is not below {classes}");
                labels[n] = label;
                var planes = rec[labelBytes..];
                var dest = pixels.AsSpan((int)(n * ImageBytes), ImageBytes);
                for (int p = 0; p < Side * Side; p++)
                    for (int c = 0; c < Channels; c++)
                        dest[p * Channels + c] = planes[c * Side * Side + p];
            }
        }
        return new Dataset
        {
            Name = name, Height = Side, Width = Side, Channels = Channels, Pixels = pixels, Labels = labels,
            ClassCount = classes, ClassNames = names,
        };
    }

    /// <summary>The class names file: one name a line (blank lines ignored), exactly <paramref name="classes"/> of them.</summary>
    public static string[] ReadNames(string path, int classes)
    {
        string text = Encoding.UTF8.GetString(InputFile.ReadAllBytes(path, 1 << 16, "a CIFAR class names file"));
        string[] names = text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        if (names.Length != classes) throw new DatasetFormatException($"{path}: {names.Length} class names, CIFAR has {classes}");
        foreach (string l in names)
            if (Encoding.UTF8.GetByteCount(l) > FormatConstants.MaxLabelBytes) throw new DatasetFormatException($"{path}: class name \"{l}\" is over {FormatConstants.MaxLabelBytes} bytes");
        return names;
    }
}
