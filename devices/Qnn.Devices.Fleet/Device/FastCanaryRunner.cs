using System.Diagnostics;
using Qnn.Format;
using Qnn.Runtime.Edge.Fast;

namespace Qnn.Devices.Fleet;

/// <summary>
/// The Pi's self-test: loads a slot's model with the fast interpreter and runs the package's canary inputs; the
/// digest is XxHash64 of all scores as little-endian 32-bit words, sample after sample, as Qnn.Verification's
/// Verifier computes it on the host.
/// </summary>
public sealed class FastCanaryRunner(FileFleetStorage storage) : ICanaryRunner
{
    public CanaryResult Run(string slot, FleetManifest manifest)
    {
        byte[] package = File.ReadAllBytes(storage.SlotPath(slot));
        if (package.Length != manifest.Size) throw new InvalidDataException($"slot {slot} holds {package.Length} bytes, the manifest {manifest.Size}");
        QnnModel model;
        try
        {
            model = ModelFile.Parse(package[..manifest.ModelSize], $"slot {slot}");
        }
        catch (QnnFormatException e)
        {
            throw new InvalidDataException(e.Message);
        }
        if (model.ModelId.ToString("x16") != manifest.ModelId)
            throw new InvalidDataException($"slot {slot} holds model {model.ModelId:x16}, the manifest says {manifest.ModelId}");
        return Digest(model, package.AsSpan(manifest.ModelSize), manifest.CanaryCount);
    }

    /// <summary>The canary digest and time per sample of <paramref name="model"/> on <paramref name="count"/> inputs.</summary>
    public static CanaryResult Digest(QnnModel model, ReadOnlySpan<byte> inputs, int count)
    {
        int sampleBytes = model.InputHeight * model.InputWidth * model.InputChannels;
        if (inputs.Length != count * sampleBytes)
            throw new InvalidDataException($"the canary set holds {inputs.Length} bytes, {count} inputs of {sampleBytes} bytes need {count * sampleBytes}");
        var interpreter = new FastInterpreter(model);
        var scores = new int[count * model.ClassCount];
        var clock = Stopwatch.StartNew();
        interpreter.RunBatch(inputs, count, scores, new int[count]);
        double seconds = clock.Elapsed.TotalSeconds;
        var hash = new XxHash64();   // the portable one an ESP32 runs too (Portable/XxHash64.cs)
        foreach (int score in scores) hash.AppendInt32(score);
        return new CanaryResult(hash.Hex(), count == 0 ? 0 : (int)Math.Round(seconds * 1e6 / count));
    }
}
