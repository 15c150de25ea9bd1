using System.Buffers.Binary;
using Qnn.Format;
using Qnn.Format.Tests; // QnnFile, linked from Qnn.Format.Tests

namespace Qnn.Cli.Tests;

/// <summary>
/// The compute cap of SPEC section 4 on the file of issue 12: 18 KB, inside every size limit, 4.3 G MACs per image.
/// Every verb refuses it from the layer table, in one line naming the file, before it reads any weights or runs.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class ComputeCapTests : TempFolderTest
{
    /// <summary>
    /// A 1024 × 1024 8-bit image, one 64 × 64 filter with "same" padding (32 each side), pooled 64 / 64 to 16 × 16,
    /// then a dense layer to two classes. The writer refuses it, so it is made from an allowed model (a 32 × 32
    /// filter, stride 2: the same pooled shape) by patching the conv's record and replacing its LAYER section.
    /// </summary>
    public static byte[] WorkBomb()
    {
        var conv = LayerFactory.Conv2D(1024, 1024, 1, 1, 32, 32, 2, 16, 1, 8, false, OutputKind.Thresholds, 1, pool: 32, poolStride: 32);
        var dense = LayerFactory.Dense(conv.OutH, conv.OutW, 1, 2, 1, 1, true, OutputKind.Scores, 0);
        var model = new QnnModel { InputHeight = 1024, InputWidth = 1024, InputChannels = 1, InputBits = 8, ClassCount = 2, Layers = [conv, dense] };
        var rng = new Random(4);
        foreach (var l in model.Layers) RandomLayers.Fill(rng, l);
        var file = QnnFile.Parse(ModelWriter.Write(model));
        byte[] record = file.Section(FormatConstants.SectionModel).AsSpan(16, 64).ToArray();
        record[20] = record[21] = 64;                                  // kernel
        record[22] = record[23] = 1;                                   // stride
        record[24] = record[25] = record[26] = record[27] = 32;        // padding
        record[28] = record[29] = record[30] = record[31] = 64;        // pool and its stride
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(32), 64 * 64);
        record.CopyTo(file.Section(FormatConstants.SectionModel), 16);
        int layer0 = file.Sections.FindIndex(s => s.Kind == FormatConstants.SectionLayer);
        file.Sections[layer0] = (FormatConstants.SectionLayer, new byte[4 * (64 * 64 + 1 + 1)]);   // weights, one threshold, flip bits
        return file.Build();
    }

    [Fact]
    public void The_18_KB_model_of_4_3_G_MACs_is_refused_by_every_verb_that_reads_it()
    {
        byte[] bomb = WorkBomb();
        Assert.InRange(bomb.Length, 16 << 10, 20 << 10);
        string path = Temp.File("bomb.qnn");
        File.WriteAllBytes(path, bomb);
        File.WriteAllBytes(Temp.File("image.raw"), new byte[1024 * 1024]);
        string says = $"{path}: layer 0 (Conv2D): the model needs 4303360000 MACs per inference up to this layer, over the limit of 2^31";
        string[][] commands = [["inspect", path], ["run", path, "--input", Temp.File("image.raw"), "--runtime", "portable"], ["export", path, "--onnx", Temp.File("b.onnx")]];
        foreach (string[] args in commands)
        {
            var r = QnnCommand.Run(args);
            Assert.Equal(1, r.ExitCode);
            Assert.Equal($"qnn {args[0]}: {says}", r.Error.TrimEnd());
        }
        Assert.Equal(["bomb.qnn", "image.raw"], Directory.GetFiles(Temp.Path).Select(Path.GetFileName).Order());
    }
}
