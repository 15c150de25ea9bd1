using Qnn.Devices.NanoFramework;
using Qnn.Format;
using Qnn.Runtime.Edge;
using Qnn.TestSupport;

namespace Qnn.Devices.Tests;

/// <summary>The ESP32 app's model loading (resident or streamed from the file) against the portable interpreter.</summary>
public sealed class DeviceModelTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Resident_and_streamed_from_a_file_give_the_reference_scores(int seed)
    {
        var rng = new Random(seed);
        var model = RandomModels.Create(rng, new RandomModels.Limits(MaxSide: 8, MaxChannels: 40, MaxDense: 80, MaxLayers: 4));
        byte[] bytes = ModelWriter.Write(model);
        string path = _temp.File($"model{seed}.qnn");
        File.WriteAllBytes(path, bytes);
        var reference = new Interpreter(ModelReader.Read(new ArraySource(bytes)));

        using var residentSource = new FileByteSource(path);
        using var streamedSource = new FileByteSource(path);
        var resident = DeviceModel.Open(residentSource, int.MaxValue);
        var streamed = DeviceModel.Open(streamedSource, 0);
        Assert.False(resident.Streamed);
        Assert.True(streamed.Streamed);
        Assert.True(streamed.Plan.TotalBytes <= resident.Plan.TotalBytes);

        var expected = new int[model.ClassCount];
        for (int i = 0; i < 5; i++)
        {
            byte[] image = RandomModels.Image(rng, model);
            int cls = reference.Run(image, expected);
            Assert.Equal(cls, resident.Classify(image));
            Assert.Equal(expected, resident.Scores);
            Assert.Equal(cls, streamed.Classify(image));
            Assert.Equal(expected, streamed.Scores);
        }
    }

    [Fact]
    public void The_budget_decides_between_resident_and_streamed()
    {
        var model = Mlps.Micro();
        string path = _temp.File("micro.qnn");
        ModelWriter.WriteFile(model, path);
        // Loading resident weights needs the plan and the reader's buffers: LoadBytes.
        int resident = MemoryPlan.Compute(model, false).LoadBytes;
        using var a = new FileByteSource(path);
        using var b = new FileByteSource(path);
        Assert.False(DeviceModel.Open(a, resident).Streamed);
        Assert.True(DeviceModel.Open(b, resident - 1).Streamed);
        Assert.Equal("7", DeviceModel.Open(a, resident).ClassName(7));
    }

    [Fact]
    public void File_source_errors_name_the_file()
    {
        string path = _temp.File("short.qnn");
        File.WriteAllBytes(path, new byte[40]);
        using var source = new FileByteSource(path);
        var buffer = new byte[16];
        source.ReadAt(24, buffer, 0, 16);
        var e = Assert.Throws<QnnFormatException>(() => source.ReadAt(30, buffer, 0, 16));
        Assert.StartsWith(path + ":", e.Message);
        Assert.Throws<QnnFormatException>(() => DeviceModel.Open(source, int.MaxValue));
    }

    [Fact]
    public void An_image_of_the_wrong_size_is_refused()
    {
        var model = Mlps.Micro();
        var device = DeviceModel.Open(new ArraySource(ModelWriter.Write(model)), int.MaxValue);
        Assert.Equal(784, device.ImageBytes);
        Assert.Throws<ArgumentException>(() => device.Classify(new byte[783]));
    }
}
