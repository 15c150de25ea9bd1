using Iot.Device.Camera.Settings;
using Iot.Device.Common;

namespace Qnn.Devices.RaspberryPi;

/// <summary>
/// A still from the Raspberry Pi camera through the libcamera apps, run by Iot.Device.Bindings' ProcessRunner:
/// <c>libcamera-still</c> (Raspberry Pi OS Bullseye) or its newer name <c>rpicam-still</c> (Bookworm), writing a
/// JPEG to standard output.
/// </summary>
public sealed class LibcameraStill(string tool = LibcameraStill.DefaultTool, int width = 640, int height = 480, int settleMilliseconds = 500) : IFrameSource
{
    public const string DefaultTool = "rpicam-still";

    public async Task<byte[]> CaptureAsync(CancellationToken cancellation)
    {
        var settings = ProcessSettingsFactory.CreateForLibcamerastill();
        settings.Filename = tool;
        var arguments = new CommandOptionsBuilder(includeOutputToStdio: true)
            .WithTimeout(settleMilliseconds)
            .WithResolution(width, height)
            .WithPictureOptions(90, "jpg")
            .GetArguments();
        using var runner = new ProcessRunner(settings);
        using var jpeg = new MemoryStream();
        try
        {
            using (cancellation.Register(runner.Kill))
                await runner.ExecuteAsync(arguments, jpeg).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            // ProcessRunner reports a tool that is not installed as "No process is associated with this object".
            throw new IOException($"{tool}: cannot run it ({e.Message}); install rpicam-apps, or pass --camera-tool libcamera-still on Bullseye", e);
        }
        cancellation.ThrowIfCancellationRequested();
        if (jpeg.Length == 0) throw new IOException($"{tool} wrote no image (is the camera connected and enabled?)");
        return jpeg.ToArray();
    }
}
