namespace Qnn.Datasets;

/// <summary>
/// Reads SVHN's cropped digits (http://ufldl.stanford.edu/housenumbers/, format 2): `train_32x32.mat` and
/// `test_32x32.mat`, MAT v5 files (<see cref="MatFile"/>) holding `X`, 32 × 32 × 3 × N uint8 in MATLAB's column-major
/// order, and `y`, N × 1 labels 1–10 where 10 is the digit 0. `extra_32x32.mat` (531,131 images, 1.6 GB) is over
/// the reader's 1 GiB array limit and is not read.
/// </summary>
public static class SvhnReader
{
    public const string Train = "train_32x32.mat", Test = "test_32x32.mat";
    public const int Side = 32, Channels = 3;

    public static DatasetSplit Load(string dir)
    {
        if (!Directory.Exists(dir)) throw new DatasetFormatException($"{dir}: no such folder (--dataset svhn:PATH names a folder with {Train} and {Test})");
        return new DatasetSplit(ReadFile(Path.Combine(dir, Train), "svhn/train"), ReadFile(Path.Combine(dir, Test), "svhn/test"));
    }

    public static Dataset ReadFile(string path, string name)
    {
        if (!File.Exists(path)) throw new DatasetFormatException($"{path}: missing (an SVHN folder holds {Train} and {Test})");
        var arrays = MatFile.Read(path, new HashSet<string> { "X", "y" });
        if (!arrays.TryGetValue("X", out var x)) throw new DatasetFormatException($"{path}: no array named X");
        if (!arrays.TryGetValue("y", out var y)) throw new DatasetFormatException($"{path}: no array named y");
        if (x.Dims.Length != 4 || x.Dims[0] != Side || x.Dims[1] != Side || x.Dims[2] != Channels)
            throw new DatasetFormatException($"{path}: X is {string.Join("x", x.Dims)}, SVHN's is 32x32x3xN");
        if (x.DataType != MatFile.MiUInt8) throw new DatasetFormatException($"{path}: X is stored as MAT data type {x.DataType}, not miUINT8 (2)");
        int n = x.Dims[3];
        if (y.Count != n || y.Dims.Count(d => d != 1) > 1) throw new DatasetFormatException($"{path}: y is {string.Join("x", y.Dims)}, X holds {n} images");
        var labels = new byte[n];
        for (int i = 0; i < n; i++)
        {
            double v = y.At(i);
            if (v is not (>= 1 and <= 10) || v != Math.Floor(v)) throw new DatasetFormatException($"{path}: label {v} of image {i} is not 1-10");
            labels[i] = (byte)(v == 10 ? 0 : v);
        }
        // X(r, c, ch, i) sits at r + 32·c + 1024·ch + 3072·i; pixels are stored row-major, channels innermost.
        const int plane = Side * Side, image = plane * Channels;
        var pixels = new byte[(long)n * image];
        var src = x.Data;
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < Channels; ch++)
                for (int c = 0; c < Side; c++)
                    for (int r = 0; r < Side; r++)
                        pixels[i * image + (r * Side + c) * Channels + ch] = src[i * image + ch * plane + c * Side + r];
        return new Dataset
        {
            Name = name, Height = Side, Width = Side, Channels = Channels, Pixels = pixels, Labels = labels, ClassCount = 10,
            ClassNames = Enumerable.Range(0, 10).Select(d => d.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
        };
    }
}
