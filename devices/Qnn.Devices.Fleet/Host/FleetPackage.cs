using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Qnn.Format;

namespace Qnn.Devices.Fleet;

/// <summary>
/// What a push sends: the .qnn file followed by its canary inputs (random bytes of the model's input size, seeded by
/// the model id, so the same model and count always give the same set), described by a manifest.
/// </summary>
public sealed class FleetPackage
{
    public const int DefaultChunkBytes = 4096;

    public required byte[] Bytes { get; init; }
    public required FleetManifest Manifest { get; init; }
    public required QnnModel Model { get; init; }
    /// <summary>The canary inputs (the tail of <see cref="Bytes"/>).</summary>
    public ReadOnlyMemory<byte> Canary => Bytes.AsMemory(Manifest.ModelSize);

    /// <summary>
    /// The package of <paramref name="model"/> with <paramref name="canaryCount"/> canary inputs; the digests are
    /// left for the caller (the host's runtimes) to fill before signing.
    /// </summary>
    public static FleetPackage Build(byte[] modelBytes, QnnModel model, int canaryCount, int chunkBytes, DateTime pushed)
    {
        int sampleBytes = model.InputHeight * model.InputWidth * model.InputChannels;
        var canary = CanaryInputs(model.ModelId, canaryCount, sampleBytes);
        byte[] bytes = [.. modelBytes, .. canary];
        if (bytes.Length > FleetManifest.MaxPackageBytes) throw new InvalidDataException($"the package is {bytes.Length} bytes, over {FleetManifest.MaxPackageBytes}");
        var manifest = new FleetManifest
        {
            ModelId = $"{model.ModelId:x16}",
            Size = bytes.Length,
            ModelSize = modelBytes.Length,
            Crc32 = Crc32.Compute(bytes, 0, bytes.Length),
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)),
            ChunkSize = chunkBytes,
            Chunks = FleetManifest.ChunkCount(bytes.Length, chunkBytes),
            CanaryId = $"rnd-{model.ModelId & 0xffffffff:x8}-{canaryCount}",
            CanaryCount = canaryCount,
            CanarySampleBytes = sampleBytes,
            Pushed = pushed.ToString("yyyy-MM-ddTHH:mm:ss.fffZ"),
        };
        return new FleetPackage { Bytes = bytes, Manifest = manifest, Model = model };
    }

    /// <summary>The canary inputs: <paramref name="count"/> × <paramref name="sampleBytes"/> bytes from a generator seeded by the model id.</summary>
    public static byte[] CanaryInputs(ulong modelId, int count, int sampleBytes)
    {
        var bytes = new byte[count * sampleBytes];
        new Random(unchecked((int)(modelId ^ (modelId >> 32)))).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Signs the manifest (after its digests are set).</summary>
    public void Sign(System.Security.Cryptography.ECDsa key) =>
        Manifest.Signature = FleetKeys.Sign(key, Encoding.UTF8.GetBytes(Manifest.Body()));

    /// <summary>Chunk <paramref name="index"/>'s payload: its CRC-32, little-endian, then its bytes.</summary>
    public byte[] ChunkPayload(int index)
    {
        int start = Manifest.ChunkStart(index), length = Manifest.ChunkLength(index);
        var payload = new byte[4 + length];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, Crc32.Compute(Bytes, start, length));
        Array.Copy(Bytes, start, payload, 4, length);
        return payload;
    }
}
