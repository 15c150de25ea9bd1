using System.Security.Cryptography;
using System.Text;
using Qnn.Devices.Fleet;
using Qnn.Format;
using Qnn.Runtime.Edge.Tests;

namespace Qnn.Devices.Tests;

/// <summary>
/// The fleet's device part without a broker (devices/FLEET.md): its SHA-256 against .NET's, the manifest's text and
/// signature, chunk assembly and its resume, and the proof that the part compiles for nanoFramework with nothing
/// nanoCLR cannot run. The end-to-end tests against Mosquitto are tests/Qnn.Cli.Tests/FleetTests.cs.
/// </summary>
public sealed class FleetPortableTests
{
    [Fact]
    public void Sha256_equals_dotnets_on_every_length_around_the_block_size_and_on_a_large_input()
    {
        var rng = new Random(5);
        foreach (int length in Enumerable.Range(0, 200).Append(100_003))
        {
            var data = new byte[length];
            rng.NextBytes(data);
            var sha = new Sha256();
            int half = length / 3;
            sha.Append(data, 0, half);
            sha.Append(data, half, length - half);
            Assert.Equal(SHA256.HashData(data), sha.Finish());
        }
    }

    [Fact]
    public void XxHash64_equals_System_IO_Hashing_on_every_length_around_the_stripe_in_random_pieces()
    {
        var rng = new Random(6);
        foreach (int length in Enumerable.Range(0, 130).Append(4_099).Append(100_003))
        {
            var data = new byte[length];
            rng.NextBytes(data);
            var mine = new Fleet.XxHash64();
            for (int at = 0; at < length;)
            {
                int piece = Math.Min(length - at, rng.Next(0, 70));
                mine.Append(data, at, piece);
                at += piece;
            }
            ulong expected = System.IO.Hashing.XxHash64.HashToUInt64(data);
            Assert.Equal(expected, mine.Value);
            Assert.Equal(expected.ToString("x16"), mine.Hex());
        }
        // Scores appended as ints are their little-endian bytes: the host's digest of the same scores.
        int[] scores = [.. Enumerable.Range(0, 37).Select(_ => rng.Next(int.MinValue, int.MaxValue))];
        var byInts = new Fleet.XxHash64();
        foreach (int s in scores) byInts.AppendInt32(s);
        Assert.Equal(System.IO.Hashing.XxHash64.HashToUInt64(System.Runtime.InteropServices.MemoryMarshal.AsBytes(scores.AsSpan())), byInts.Value);
    }

    private static FleetPackage Package(out ECDsa key)
    {
        QnnModel m = Mlps.Micro(4);
        byte[] bytes = ModelWriter.Write(m);
        var package = FleetPackage.Build(bytes, ModelFile.Parse(bytes, "micro"), 8, 1024, new DateTime(2026, 12, 2, 1, 0, 0, DateTimeKind.Utc));
        (package.Manifest.DigestPortable, package.Manifest.DigestFast, package.Manifest.DigestGpu) = ("00000000000000aa", "00000000000000aa", "00000000000000aa");
        key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        package.Sign(key);
        return package;
    }

    [Fact]
    public void A_signed_manifest_reads_back_whole_and_verifies_and_any_changed_line_does_not()
    {
        var package = Package(out var key);
        using var _ = key;
        byte[] payload = package.Manifest.ToBytes();
        FleetManifest read = FleetManifest.Parse(payload);
        Assert.Equal(package.Manifest.Body(), read.Body());
        Assert.Equal(Encoding.ASCII.GetBytes(package.Manifest.Body()), read.SignedBytes);
        var verifier = new EcdsaSignatureVerifier(key);
        Assert.True(verifier.Verify(read.SignedBytes, read.Signature!));

        string text = Encoding.ASCII.GetString(payload);
        foreach (var (from, to) in new[] { ("digest-portable 00000000000000aa", "digest-portable 00000000000000ab"), ("canary rnd-", "canary rnX-") })
        {
            FleetManifest changed = FleetManifest.Parse(Encoding.ASCII.GetBytes(text.Replace(from, to)));
            Assert.False(verifier.Verify(changed.SignedBytes, changed.Signature!));
        }
        Assert.Null(FleetManifest.Parse(Encoding.ASCII.GetBytes(package.Manifest.Body())).Signature);
    }

    [Theory]
    [InlineData("qnn-fleet 2", "qnn-fleet 1", "does not start with")]
    [InlineData("chunk-size 1024", "chunk-size 1000", "power of two")]
    [InlineData("chunk-size 1024", "chunk-size 2048", "chunks does not match")]
    [InlineData("model-size ", "model-size 9", "outside")]
    [InlineData("crc32 ", "crc32 zz", "crc32")]
    public void A_malformed_manifest_is_refused_naming_the_line(string replacement, string original, string expected)
    {
        var package = Package(out var key);
        key.Dispose();
        string text = package.Manifest.ToText();
        string changed = replacement.StartsWith("qnn-fleet 2") ? text.Replace(original, replacement) : text.Replace(replacement, original);
        var e = Assert.Throws<FleetProtocolException>(() => FleetManifest.Parse(Encoding.ASCII.GetBytes(changed)));
        Assert.Contains(expected, e.Message);
    }

    private sealed class MemoryStorage : IFleetStorage
    {
        public readonly Dictionary<string, string> Records = [];
        public byte[] Stage = [];
        public readonly Dictionary<string, byte[]> Slots = [];
        public int Writes;
        public string? ReadRecord(string name) => Records.GetValueOrDefault(name);
        public void WriteRecord(string name, string text) => Records[name] = text;
        public void ResetStage(int size) => Stage = new byte[size];
        public void WriteStage(int offset, byte[] data, int start, int count) { Array.Copy(data, start, Stage, offset, count); Writes++; }
        public void ReadStage(int offset, byte[] buffer, int start, int count) => Array.Copy(Stage, offset, buffer, start, count);
        public void CommitStage(string slot) { Slots[slot] = Stage; Stage = []; }
    }

    [Fact]
    public void Chunks_assemble_in_any_order_redeliveries_are_ignored_and_a_reopened_assembly_resumes()
    {
        var package = Package(out var key);
        key.Dispose();
        FleetManifest m = package.Manifest;
        var storage = new MemoryStorage();
        var assembly = ChunkAssembly.Open(m, storage);
        int half = m.Chunks / 2;
        for (int i = half - 1; i >= 0; i--) Assert.True(assembly.Accept(i, package.ChunkPayload(i)));
        Assert.False(assembly.Accept(0, package.ChunkPayload(0)));

        var resumed = ChunkAssembly.Open(m, storage);   // a restart: the record says which chunks are in
        Assert.Equal(half, resumed.Received);
        Assert.Equal(half, resumed.NextMissing(0));
        for (int i = half; i < m.Chunks; i++) Assert.True(resumed.Accept(i, package.ChunkPayload(i)));
        Assert.True(resumed.Complete);
        Assert.Equal(m.Chunks, storage.Writes);
        resumed.CheckWhole();
        Assert.Equal(package.Bytes, storage.Stage);

        var wrong = ChunkAssembly.Open(m, storage);
        Assert.Contains("outside", Assert.Throws<FleetProtocolException>(() => wrong.Accept(m.Chunks, package.ChunkPayload(0))).Message);
    }

    [Fact]
    public void The_fleet_device_part_compiles_for_nanoFramework_with_nothing_nanoCLR_cannot_run()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Qnn.Devices.NanoFramework.Check.dll");
        Assert.True(File.Exists(path), $"{path} is missing: the test project copies it from devices/nanoframework/Qnn.Devices.NanoFramework.Check");
        using var nano = new IlInspector(path);
        Assert.Contains("Qnn.Devices.Fleet.FleetAgent", nano.TypeNames());
        Assert.Contains("Qnn.Devices.Fleet.ChunkAssembly", nano.TypeNames());
        var findings = nano.NanoFrameworkViolations(_ => true);
        findings.AddRange(nano.GenericTables());
        Assert.Empty(findings);
        Assert.Equal(["Qnn.Runtime.Edge.NanoFramework", "mscorlib"], nano.AssemblyReferences().Order());
    }
}
