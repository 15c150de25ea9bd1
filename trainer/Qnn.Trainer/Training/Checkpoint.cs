using System.Text;
using System.Text.Json;
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
/// statistics, optimizer moments, the best-validation snapshot), written atomically. Resuming from it continues
/// bit for bit as the uninterrupted run.
/// </summary>
public static class Checkpoint
{
    private static readonly byte[] Magic = "QNNCKPT1"u8.ToArray();

    public static void Save(string path, CheckpointHeader header, IReadOnlyList<Tensor> tensors, IBackend backend, IReadOnlyList<float[]> best)
    {
        using var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(header);
            w.Write(json.Length);
            w.Write(json);
            w.Write(tensors.Count);
            foreach (var t in tensors)
            {
                var data = new float[t.Length];
                backend.Download(t, data);
                WriteArray(w, data);
            }
            w.Write(best.Count);
            foreach (var a in best) WriteArray(w, a);
        }
        OutputFile.WriteAllBytes(path, ms.GetBuffer().AsSpan(0, (int)ms.Length));
    }

    private static void WriteArray(BinaryWriter w, float[] data)
    {
        w.Write(data.Length);
        var bytes = new byte[data.Length * 4];
        Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
        w.Write(bytes);
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

    /// <summary>Reads only the header (to check options before building a network).</summary>
    public static CheckpointHeader ReadHeader(string path)
    {
        using var r = Open(path);
        return ReadHeader(r, path);
    }

    private static BinaryReader Open(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such checkpoint");
        return new BinaryReader(File.OpenRead(path));
    }

    private static CheckpointHeader ReadHeader(BinaryReader r, string path)
    {
        try
        {
            byte[] magic = r.ReadBytes(Magic.Length);
            if (!magic.AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"{path}: not a qnn checkpoint");
            int n = r.ReadInt32();
            if (n <= 0 || n > 1 << 24) throw new InvalidDataException($"{path}: corrupt checkpoint header");
            return JsonSerializer.Deserialize<CheckpointHeader>(r.ReadBytes(n)) ?? throw new InvalidDataException($"{path}: empty checkpoint header");
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
