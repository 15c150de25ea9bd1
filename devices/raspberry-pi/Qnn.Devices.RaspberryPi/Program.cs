using System.CommandLine;
using System.Device.Gpio;
using System.Device.I2c;
using System.Device.Spi;
using Qnn.Format;

namespace Qnn.Devices.RaspberryPi;

/// <summary>
/// The composition root: parses the command line, creates every bus (I2C for the OLED, SPI for the LED matrix,
/// the GPIO controller for the button) here and only here, passes them to the parts, and runs the loop until
/// Ctrl-C (or, with image files only, until they are classified).
/// </summary>
public static class Program
{
    public static Task<int> Main(string[] args) => BuildCommand().Parse(args).InvokeAsync();

    public static RootCommand BuildCommand()
    {
        var model = new Option<string?>("--model") { Description = "The .qnn model file (not with --fleet, whose store holds the model)." };
        var images = new Option<string[]>("--image") { Description = "Image files to classify (PNG, JPEG, BMP, PGM, or raw H*W*C bytes).", AllowMultipleArgumentsPerToken = true };
        var watch = new Option<string?>("--watch") { Description = "Classify every image file dropped into this folder." };
        var camera = new Option<bool>("--camera") { Description = "Take pictures with the Raspberry Pi camera when the button is pressed." };
        var cameraTool = new Option<string>("--camera-tool") { Description = "rpicam-still (Bookworm) or libcamera-still (Bullseye).", DefaultValueFactory = _ => LibcameraStill.DefaultTool };
        var button = new Option<int?>("--button-pin") { Description = "GPIO (BCM) pin of the capture button, wired to ground (e.g. 17)." };
        var oled = new Option<bool>("--oled") { Description = "Show the class on an SSD1306 OLED on I2C bus 1, address 0x3C." };
        var oledHeight = new Option<int>("--oled-height") { Description = "The OLED's height: 64 or 32.", DefaultValueFactory = _ => 64 };
        var matrix = new Option<int>("--matrix") { Description = "Show the class on this many cascaded MAX7219 8x8 LED matrices on SPI 0.0 (0: none).", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print each classification as one JSON line." };
        var fleet = new FleetOptions();

        var root = new RootCommand("Classify camera pictures and image files with a quantized neural network (.qnn) on a Raspberry Pi.");
        foreach (var option in new Option[] { model, images, watch, camera, cameraTool, button, oled, oledHeight, matrix, json }) root.Options.Add(option);
        fleet.AddTo(root);
        root.SetAction((parse, cancellation) => parse.GetValue(fleet.Url) is not null ? fleet.RunAsync(parse, parse.GetValue(model), cancellation) : RunAsync(new Settings(
            parse.GetValue(model), parse.GetValue(images) ?? [], parse.GetValue(watch), parse.GetValue(camera), parse.GetValue(cameraTool)!,
            parse.GetValue(button), parse.GetValue(oled), parse.GetValue(oledHeight), parse.GetValue(matrix), parse.GetValue(json)), cancellation));
        return root;
    }

    private sealed record Settings(string? Model, string[] Images, string? Watch, bool Camera, string CameraTool, int? ButtonPin,
        bool Oled, int OledHeight, int Matrices, bool Json);

    /// <summary>Opens a bus or device; a failure becomes one line that says which device it was.</summary>
    private static T Open<T>(string what, Func<T> open)
    {
        try
        {
            return open();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException
                                       or NotSupportedException or InvalidOperationException)
        {
            throw new IOException($"{what}: {e.Message}", e);
        }
    }

    private static async Task<int> RunAsync(Settings settings, CancellationToken cancellation)
    {
        ModelClassifier classifier;
        if (settings.Model is null)
        {
            Console.Error.WriteLine("--model: give the .qnn model file (or --fleet URL to follow a fleet)");
            return 1;
        }
        try
        {
            classifier = new ModelClassifier(ModelFile.Load(settings.Model));
        }
        catch (QnnFormatException e)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
        bool interactive = settings.Watch is not null || settings.ButtonPin is not null;
        if (!interactive && settings.Images.Length == 0)
        {
            Console.Error.WriteLine("nothing to classify: give --image FILE, --watch FOLDER, or --camera with --button-pin PIN");
            return 1;
        }

        // The buses: created here, owned here, disposed here.
        var displays = new List<IClassDisplay>();
        GpioController? gpio = null;
        CaptureButton? captureButton = null;
        FolderWatch? folderWatch = null;
        try
        {
            if (settings.Oled)
                displays.Add(Open("the OLED on I2C bus 1, address 0x3C (is I2C enabled? raspi-config)", () =>
                    new OledClassDisplay(I2cDevice.Create(new I2cConnectionSettings(1, OledClassDisplay.DefaultAddress)), settings.OledHeight)));
            if (settings.Matrices > 0)
                displays.Add(Open("the LED matrix on SPI 0.0 (is SPI enabled? raspi-config)", () =>
                    new MatrixClassDisplay(SpiDevice.Create(MatrixClassDisplay.Settings(0, 0)), settings.Matrices)));
            IFrameSource? camera = settings.Camera ? new LibcameraStill(settings.CameraTool) : null;
            var app = new ClassifierApp(classifier, displays, camera, Console.Out, settings.Json);

            if (settings.ButtonPin is int pin)
            {
                gpio = Open("GPIO", () => new GpioController());
                Action press = camera is not null ? app.RequestCapture : () => Console.Error.WriteLine("button pressed, but no --camera");
                captureButton = Open($"the button on GPIO {pin}", () => new CaptureButton(gpio, pin, press));
            }
            if (settings.Watch is not null) folderWatch = new FolderWatch(settings.Watch, app.RequestFile);
            foreach (var image in settings.Images) app.RequestFile(image);
            if (!interactive) app.Complete();
            else Console.Error.WriteLine("waiting for button presses and dropped files; Ctrl-C to stop");

            await app.RunAsync(cancellation);
            return app.Failed == 0 ? 0 : 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            // A missing bus (/dev/i2c-1 not enabled), a pin in use, a folder that does not exist.
            Console.Error.WriteLine(e.Message);
            return 1;
        }
        finally
        {
            folderWatch?.Dispose();
            captureButton?.Dispose();
            gpio?.Dispose();
            foreach (var display in displays) display.Dispose();
        }
    }
}
