using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Qnn.Trainer.Backends;
using Qnn.Format;

namespace Qnn.Trainer.Training;

/// <summary>Where a run stands: what a checkpoint holds besides the tensors.</summary>
public sealed record CheckpointHeader
{
    public required TrainOptions Options { get; init; }
    /// <summary>The epoch (0-based) and batch to run next.</summary>
    public int Epoch { get; init; }
    public int Batch { get; init; }
    public long Steps { get; init; }
    /// <summary>Sums of the epoch in progress (a checkpoint taken mid-epoch, on Ctrl-C).</summary>
    public double PartialLoss { get; init; }
    public long PartialCorrect { get; init; }
    public long PartialSeen { get; init; }
    public double PartialSeconds { get; init; }
    public List<EpochRecord> History { get; init; } = [];
    public double BestValAccuracy { get; init; } = -1;
    public int BestEpoch { get; init; } = -1;
    public bool HasBest { get; init; }
}

/// <summary>
/// A training checkpoint: a small JSON header and every tensor that the next step depends on (parameters, running
/// statistics, optimizer moments, the best-validation snapshot), then an 8-byte trailer, the XxHash64 of all the
/// bytes before it; written atomically. A resume reads the whole file and refuses it unless the checksum matches, so
/// a damaged checkpoint can never continue as a different model. Resuming from it continues bit for bit as the
/// uninterrupted run.
/// </summary>
public static class Checkpoint
{
    private static readonly byte[] Magic = "QNNCKPT2"u8.ToArray();
    /// <summary>The layout before the checksum trailer; such a file cannot be checked and is refused.</summary>
    private static readonly byte[] UncheckedMagic = "QNNCKPT1"u8.ToArray();
    private const int TrailerBytes = sizeof(ulong);

    /// <summary>NaN and infinities are legal values of a header (no validation split leaves the validation loss NaN).</summary>
    private static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static void Save(string path, CheckpointHeader header, IReadOnlyList<Tensor> tensors, IBackend backend, IReadOnlyList<float[]> best) =>
        Save(path, header, tensors.Select(t => { var a = new float[t.Length]; backend.Download(t, a); return a; }).ToList(), best);

    /// <summary>Saves tensors already downloaded to the host, in the order <see cref="Load"/> expects them.</summary>
    public static void Save(string path, CheckpointHeader header, IReadOnlyList<float[]> tensors, IReadOnlyList<float[]> best)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(header, Json);
            w.Write(json.Length);
            w.Write(json);
            w.Write(tensors.Count);
            foreach (var t in tensors) WriteArray(w, t);
            w.Write(best.Count);
            foreach (var a in best) WriteArray(w, a);
            w.Flush();
            w.Write(XxHash64.HashToUInt64(ms.GetBuffer().AsSpan(0, (int)ms.Length)));
        }
        OutputFile.WriteAllBytes(path, ms.GetBuffer().AsSpan(0, (int)ms.Length));
    }

    private static void WriteArray(BinaryWriter w, float[] data)
    {
        w.Write(data.Length);
        w.Write(MemoryMarshal.AsBytes(data.AsSpan()));
    }

    private static float[] ReadArray(BinaryReader r, string path)
    {
        int n = r.ReadInt32();
        if (n < 0 || n > (1 << 28)) throw new InvalidDataException($"{path}: corrupt checkpoint (tensor of {n} floats)");
        byte[] bytes = r.ReadBytes(n * 4);
        if (bytes.Length != n * 4) throw new InvalidDataException($"{path}: checkpoint is truncated");
        var data = new float[n];
        Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length);
        return data;
    }

    /// <summary>Reads only the header (to check options before building a network); the whole file's checksum is checked first.</summary>
    public static CheckpointHeader ReadHeader(string path)
    {
        using var r = Open(path);
        return ReadHeader(r, path);
    }

    /// <summary>
    /// A reader positioned after the magic, once the checksum of the whole file matched (streamed: a checkpoint of a
    /// wide network can be over the 2 GB one array holds). Every failure is one line naming the file.
    /// </summary>
    private static BinaryReader Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such checkpoint");
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        try
        {
            var magic = new byte[Magic.Length];
            int got = file.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
            if (got == magic.Length && magic.AsSpan().SequenceEqual(UncheckedMagic))
                throw new InvalidDataException($"{path}: a checkpoint of an older qnn, without a checksum, so it cannot be checked; delete it to train from the start");
            if (got < magic.Length || !magic.AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a qnn checkpoint");
            long payload = file.Length - TrailerBytes;
            if (payload < Magic.Length) throw new InvalidDataException($"{path}: checkpoint is truncated");
            var hash = new XxHash64();
            hash.Append(magic);
            var buffer = new byte[1 << 20];
            for (long left = payload - Magic.Length; left > 0;)
            {
                int n = file.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (n == 0) throw new InvalidDataException($"{path}: checkpoint is truncated");
                hash.Append(buffer.AsSpan(0, n));
                left -= n;
            }
            file.ReadExactly(buffer, 0, TrailerBytes);
            if (hash.GetCurrentHashAsUInt64() != BinaryPrimitives.ReadUInt64LittleEndian(buffer))
                throw new InvalidDataException($"{path}: checksum mismatch, the checkpoint is damaged; delete it to train from the start");
            file.Position = Magic.Length;
            return new BinaryReader(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static CheckpointHeader ReadHeader(BinaryReader r, string path)
    {
        try
        {
            int n = r.ReadInt32();
            if (n <= 0 || n > 1 << 24) throw new InvalidDataException($"{path}: corrupt checkpoint header");
            return JsonSerializer.Deserialize<CheckpointHeader>(r.ReadBytes(n), Json) ?? throw new InvalidDataException($"{path}: empty checkpoint header");
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException)
        {
            throw new InvalidDataException($"{path}: corrupt checkpoint ({e.Message})");
        }
    }

    /// <summary>Loads the tensors into <paramref name="tensors"/> (same order and sizes as saved) and returns the header and best snapshot.</summary>
    public static (CheckpointHeader Header, List<float[]> Best) Load(string path, IReadOnlyList<Tensor> tensors, IBackend backend)
    {
        using var r = Open(path);
        var header = ReadHeader(r, path);
        try
        {
            int count = r.ReadInt32();
            if (count != tensors.Count) throw new InvalidDataException($"{path}: checkpoint has {count} tensors, the network needs {tensors.Count}");
            foreach (var t in tensors)
            {
                var data = ReadArray(r, path);
                if (data.Length != t.Length) throw new InvalidDataException($"{path}: checkpoint tensor of {data.Length} values, the network's has {t.Length}");
                backend.Upload(data, t);
            }
            int nb = r.ReadInt32();
            var best = new List<float[]>();
            for (int i = 0; i < nb; i++) best.Add(ReadArray(r, path));
            return (header, best);
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{path}: checkpoint is truncated");
        }
    }
}
