namespace Qnn.Devices.RaspberryPi;

/// <summary>Takes a picture and returns it as an encoded image file (JPEG, PNG, ...).</summary>
public interface IFrameSource
{
    Task<byte[]> CaptureAsync(CancellationToken cancellation);
}
