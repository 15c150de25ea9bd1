using System.Device.Gpio;
using Qnn.Devices.RaspberryPi;
using Qnn.Devices.Tests.Fakes;
using Qnn.Format;
using Qnn.Runtime.Edge;
using Qnn.TestSupport;

namespace Qnn.Devices.Tests;

/// <summary>The Raspberry Pi app driven through fake buses: button edges, dropped files, what the displays get.</summary>
public sealed class ClassifierAppTests : IDisposable
{
    private const int ButtonPin = 17;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private readonly TempFolder _temp = new();
    private readonly QnnModel _model = ImageModels.Create(seed: 5);
    private readonly Random _rng = new(11);

    public void Dispose() => _temp.Dispose();

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task A_button_press_takes_one_picture_and_shows_one_classification()
    {
        // The camera's picture is a PNG of exactly the model's input size: decoding and converting it must give the
        // same pixels, so the app's scores must be the portable reference's on those pixels.
        byte[] pixels = RandomModels.Image(_rng, _model);
        var expectedScores = new int[10];
        int expected = new Interpreter(_model).Run(pixels, expectedScores);
        byte[] picture = ImageModels.Png(pixels);

        var driver = new FakeGpioDriver();
        using var gpio = new GpioController(driver);
        var time = new ManualTimeProvider();
        var camera = new FakeCamera(picture);
        var oled = new RecordingI2cDevice();
        using var display = new OledClassDisplay(oled);
        var log = new StringWriter();
        var app = new ClassifierApp(new ModelClassifier(_model), [display], camera, TextWriter.Synchronized(log));
        var shown = new List<Classification>();
        app.ClassificationShown += shown.Add;
        using var button = new CaptureButton(gpio, ButtonPin, app.RequestCapture, TimeSpan.FromMilliseconds(50), time);
        Assert.Equal(PinMode.InputPullUp, driver.Modes[ButtonPin]);

        using var stop = new CancellationTokenSource();
        var loop = app.RunAsync(stop.Token);

        // One press whose contact bounces: falling, rising, falling, rising within a few milliseconds.
        driver.Edge(ButtonPin, PinEventTypes.Falling);
        time.Advance(TimeSpan.FromMilliseconds(2));
        driver.Edge(ButtonPin, PinEventTypes.Rising);
        time.Advance(TimeSpan.FromMilliseconds(3));
        driver.Edge(ButtonPin, PinEventTypes.Falling);
        driver.Edge(ButtonPin, PinEventTypes.Rising);
        await WaitUntil(() => app.Classified == 1);
        await Task.Delay(200);
        Assert.Equal(1, app.Classified);
        Assert.Equal(1, camera.Captures);
        var first = Assert.Single(shown);
        Assert.Equal(expected, first.Class);
        Assert.Equal(expectedScores, first.Scores);
        int writesAfterFirst = oled.Writes.Count;

        // A second press after the debounce time is a second classification.
        time.Advance(TimeSpan.FromMilliseconds(400));
        driver.Edge(ButtonPin, PinEventTypes.Falling);
        await WaitUntil(() => app.Classified == 2);
        Assert.Equal(2, camera.Captures);
        Assert.True(oled.Writes.Count > writesAfterFirst);

        app.Complete();
        await loop;
        string[] lines = log.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.All(lines, line => Assert.StartsWith($"camera: class {expected} (digit {expected})  inference ", line));
        Assert.All(lines, line => Assert.Contains(" ms", line));
    }

    [Fact]
    public async Task A_file_dropped_into_the_watched_folder_is_classified_once_and_a_bad_one_is_reported()
    {
        string watched = Directory.CreateDirectory(_temp.File("inbox")).FullName;
        byte[] image = RandomModels.Image(_rng, _model);
        int expected = new Interpreter(_model).Run(image, new int[10]);
        var matrix = new RecordingSpiDevice();
        using var display = new MatrixClassDisplay(matrix);
        var log = new StringWriter();
        var app = new ClassifierApp(new ModelClassifier(_model), [display], null, TextWriter.Synchronized(log));
        using var watch = new FolderWatch(watched, app.RequestFile);
        using var stop = new CancellationTokenSource();
        var loop = app.RunAsync(stop.Token);

        string staged = _temp.File("digit.raw");
        await File.WriteAllBytesAsync(staged, image);
        File.Move(staged, Path.Combine(watched, "digit.raw"));
        await WaitUntil(() => app.Classified == 1);

        await File.WriteAllBytesAsync(Path.Combine(watched, "broken.raw"), new byte[100]);  // neither an image nor 8x8 raw pixels
        await WaitUntil(() => app.Failed == 1);
        await Task.Delay(200);
        Assert.Equal(1, app.Classified);
        app.Complete();
        await loop;

        string output = log.ToString();
        Assert.Contains($"digit.raw: class {expected} (digit {expected})", output);
        Assert.Contains("broken.raw: not a PNG", output);
        // The matrix (one 8x8 module, too narrow for "digit N") got the class index's glyph in its digit registers.
        var glyph = Iot.Device.Max7219.Fonts.Default[expected.ToString()[0]];
        Assert.Contains(matrix.Writes, w => w.SequenceEqual(new byte[] { 1, glyph[0] }));
    }
}
