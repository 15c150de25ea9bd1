using Iot.Device.Max7219;
using Qnn.Devices.RaspberryPi;
using Qnn.Devices.Tests.Fakes;

namespace Qnn.Devices.Tests;

/// <summary>What the SSD1306 and the MAX7219 receive on their buses, decoded independently of the drawing code.</summary>
public class DisplayTests
{
    private static Classification Result(string? label, int cls = 7) =>
        new("test", cls, label, new int[10], TimeSpan.FromMilliseconds(0.5), TimeSpan.FromMilliseconds(0.25));

    /// <summary>The frame the panel holds after the last full write: data bytes (control byte 0x40) after the last page window command.</summary>
    private static byte[] LastFrame(RecordingI2cDevice bus)
    {
        int window = bus.Writes.FindLastIndex(w => w.Length >= 2 && w[0] == 0x00 && w[1] == 0x22);
        Assert.True(window >= 0, "no page address command was sent");
        return bus.Writes.Skip(window + 1).Where(w => w[0] == 0x40).SelectMany(w => w.Skip(1)).ToArray();
    }

    private static bool Pixel(byte[] frame, int x, int y) => (frame[(y / 8) * 128 + x] >> (y % 8) & 1) == 1;

    [Fact]
    public void Oled_initialises_a_64_row_panel_and_turns_it_on()
    {
        var bus = new RecordingI2cDevice();
        using var display = new OledClassDisplay(bus, 64);
        Assert.Contains(bus.Writes, w => w.SequenceEqual(new byte[] { 0x00, 0xAF }));        // display on
        Assert.Contains(bus.Writes, w => w.SequenceEqual(new byte[] { 0x00, 0xA8, 0x3F }));  // 64 multiplexed rows
        Assert.Contains(bus.Writes, w => w.SequenceEqual(new byte[] { 0x00, 0xDA, 0x12 }));  // alternative COM pins
    }

    [Fact]
    public void Oled_shows_the_class_as_a_large_glyph_and_the_latency_below()
    {
        var bus = new RecordingI2cDevice();
        using var display = new OledClassDisplay(bus, 64);
        display.Show(Result("7"));

        byte[] frame = LastFrame(bus);
        Assert.Equal(128 * 64 / 8, frame.Length);
        // Seven rows of the 8-pixel font, each pixel a 7×7 block, centred: check the middle of every block.
        var glyph = Fonts.Default['7'];
        const int scale = 7;
        int left = (128 - glyph.Count * scale) / 2;
        for (int column = 0; column < glyph.Count; column++)
            for (int row = 0; row < 8; row++)
                Assert.True((glyph[column] >> row & 1) == 1 == Pixel(frame, left + column * scale + scale / 2, row * scale + scale / 2),
                    $"glyph pixel ({column}, {row})");
        // Nothing else above the latency line; the latency line itself is not empty.
        for (int y = 0; y < 56; y++)
            for (int x = 0; x < 128; x++)
                if (x < left || x >= left + glyph.Count * scale) Assert.False(Pixel(frame, x, y), $"stray pixel ({x}, {y})");
        Assert.Contains(frame.Skip(7 * 128), b => b != 0);
    }

    [Fact]
    public void Oled_frames_differ_by_class_and_a_model_without_labels_shows_the_index()
    {
        var oneBus = new RecordingI2cDevice();
        using (var display = new OledClassDisplay(oneBus, 32)) display.Show(Result(null, cls: 1));
        var sevenBus = new RecordingI2cDevice();
        using (var display = new OledClassDisplay(sevenBus, 32)) display.Show(Result(null, cls: 7));
        byte[] one = LastFrame(oneBus), seven = LastFrame(sevenBus);
        Assert.Equal(128 * 32 / 8, one.Length);
        Assert.NotEqual(one, seven);
        Assert.Equal(OledClassDisplay.Render(Result("1"), 32).Bytes, one);
    }

    [Fact]
    public void Matrix_receives_the_glyph_column_by_column_in_its_digit_registers()
    {
        var bus = new RecordingSpiDevice();
        using var display = new MatrixClassDisplay(bus);
        Assert.Contains(bus.Writes, w => w.SequenceEqual(new byte[] { 0x0C, 0x01 }));  // shutdown register: normal operation
        bus.Writes.Clear();
        display.Show(Result("3"));

        var glyph = Fonts.Default['3'];
        var last = bus.Writes.TakeLast(8).ToArray();
        for (int digit = 1; digit <= 8; digit++)
        {
            byte expected = digit - 1 < glyph.Count ? glyph[digit - 1] : (byte)0;
            Assert.Equal(new byte[] { (byte)digit, expected }, last[digit - 1]);
        }
    }
}

public class CameraTests
{
    [Fact]
    public async Task A_missing_camera_tool_is_an_io_error_that_names_it()
    {
        var camera = new Qnn.Devices.RaspberryPi.LibcameraStill("qnn-no-such-camera-tool");
        var e = await Assert.ThrowsAsync<IOException>(() => camera.CaptureAsync(CancellationToken.None));
        Assert.StartsWith("qnn-no-such-camera-tool: ", e.Message);
    }
}
