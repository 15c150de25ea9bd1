using System.Buffers.Binary;
using System.Diagnostics;
using Qnn.Runtime.Edge;

namespace Qnn.Format.Tests;

/// <summary>
/// A bounded fuzz of the reader, the validator and the portable interpreter: valid files of every layer kind
/// (random models, the small model, the MNIST-like one) mutated by byte flips, truncations, extensions and
/// overwrites of header, record and layer fields, some with CRCs and model id made consistent again so that the
/// mutation reaches the validator and, when accepted, the interpreter. The only exception allowed out of reading is
/// <see cref="QnnFormatException"/>, an accepted model runs without any, and every case is fast (the compute cap
/// of SPEC section 4 bounds the work of an accepted one).
/// </summary>
public class ModelFuzzTests
{
    private const int MutationsPerModel = 80;

    private static IEnumerable<(string Name, QnnModel Model)> Subjects()
    {
        yield return ("small", QnnFile.SmallModel());
        yield return ("mnist-like", ConvNets.MnistLike());
        var limits = new RandomModels.Limits(MaxSide: 9, MaxChannels: 40, MaxDense: 60, MaxLayers: 5, MaxBits: 3, MaxClasses: 6);
        for (int seed = 0; seed < 24; seed++) yield return ($"random {seed}", RandomModels.Create(new Random(seed), limits));
    }

    [Fact]
    public void Mutated_models_give_a_format_error_or_run_and_never_anything_else()
    {
        var kinds = new HashSet<LayerKind>();
        int accepted = 0, rejected = 0;
        var total = Stopwatch.StartNew();
        foreach (var (name, model) in Subjects())
        {
            foreach (var l in model.Layers) kinds.Add(l.Kind);
            byte[] valid = ModelWriter.Write(model);
            var rng = new Random(name.GetHashCode(StringComparison.Ordinal) ^ 12345);
            for (int i = 0; i < MutationsPerModel; i++)
            {
                var (how, bytes) = Mutate(valid, rng);
                var watch = Stopwatch.StartNew();
                QnnModel? read = null;
                try
                {
                    read = ModelFile.Parse(bytes, "fuzz.qnn");
                    ModelReader.Read(new ArraySource(bytes), loadLayers: false);
                }
                catch (QnnFormatException e)
                {
                    Assert.StartsWith("fuzz.qnn: ", e.Message);
                    rejected++;
                    read = null;
                }
                catch (Exception e)
                {
                    Assert.Fail($"{name}, {how}: {e.GetType().Name} escaped the reader: {e.Message}");
                }
                if (read is not null)
                {
                    accepted++;
                    try
                    {
                        var scores = new int[read.ClassCount];
                        int predicted = new Interpreter(read).Run(RandomModels.Image(rng, read), scores);
                        Assert.InRange(predicted, 0, read.ClassCount - 1);
                    }
                    catch (Exception e) when (e is not Xunit.Sdk.XunitException)
                    {
                        Assert.Fail($"{name}, {how}: the reader accepted a model the interpreter cannot run: {e.GetType().Name}: {e.Message}");
                    }
                }
                // A mutation must not buy unbounded work (the compute cap of SPEC 4 would take minutes here); the bound is
                // loose because a loaded 2-core machine takes about 0.1 s for the unchanged mnist-like model, 0.6 s at worst seen.
                Assert.True(watch.ElapsedMilliseconds < 3000, $"{name}, {how}: {watch.ElapsedMilliseconds} ms");
            }
        }
        Assert.Equal([LayerKind.Dense, LayerKind.Conv2D, LayerKind.MaxPool2D], kinds.Order());
        Assert.True(accepted > 50 && rejected > 500, $"{accepted} accepted, {rejected} rejected: the mutations should reach both outcomes");
        Assert.True(total.Elapsed < TimeSpan.FromSeconds(20), $"{total.Elapsed}");
    }

    /// <summary>One mutation; those marked "consistent" rebuild CRCs and model id so that they get past the integrity checks.</summary>
    private static (string How, byte[] Bytes) Mutate(byte[] valid, Random rng)
    {
        byte[] b = (byte[])valid.Clone();
        switch (rng.Next(7))
        {
            case 0:
            {
                int at = rng.Next(b.Length), bit = rng.Next(8);
                b[at] ^= (byte)(1 << bit);
                return ($"bit {bit} of byte {at} flipped", b);
            }
            case 1:
            {
                int n = rng.Next(b.Length);
                return ($"truncated to {n} bytes", b[..n]);
            }
            case 2:
            {
                int n = rng.Next(1, 64);
                var longer = new byte[b.Length + n];
                b.CopyTo(longer, 0);
                rng.NextBytes(longer.AsSpan(b.Length));
                return ($"{n} bytes appended", longer);
            }
            case 3:
            {   // a header or section-table field overwritten, header CRC fixed
                int words = (32 + 16 * (int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(12))) / 4;
                int word = rng.Next(2, Math.Min(words, b.Length / 4));
                if (word == 7) word = 6;
                uint value = Interesting(rng);
                BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4 * word), value);
                QnnFile.FixHeaderCrc(b);
                return ($"header word {word} = 0x{value:X8}, header CRC fixed", b);
            }
            default:
            {   // a byte, u16 or u32 of the MODEL section or of a LAYER, LABELS or METADATA section overwritten, consistent
                var file = QnnFile.Parse(b);
                int s = rng.Next(2) == 0 ? 0 : rng.Next(file.Sections.Count);
                byte[] section = file.Sections[s].Bytes;
                if (section.Length == 0) return ("no change (empty section)", b);
                int at = rng.Next(section.Length);
                uint value = Interesting(rng);
                int width = Math.Min(section.Length - at, rng.Next(3) switch { 0 => 1, 1 => 2, _ => 4 });
                for (int k = 0; k < width; k++) section[at + k] = (byte)(value >> (8 * k));
                return ($"section {s} bytes {at}+{width} = 0x{value:X8}, consistent", file.Build());
            }
        }
    }

    /// <summary>Values at the edges of the format's ranges, and random ones.</summary>
    private static uint Interesting(Random rng) => rng.Next(10) switch
    {
        0 => 0,
        1 => 1,
        2 => 0xFF,
        3 => 0xFFFF,
        4 => 0xFFFFFFFF,
        5 => 0x80000000,
        6 => (uint)rng.Next(2, 70),
        7 => 64,
        _ => (uint)rng.NextInt64(0, 1L << 32),
    };
}
