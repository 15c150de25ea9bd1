namespace Qnn.Devices.RaspberryPi;

/// <summary>Something that shows a classification to a person: the OLED, the LED matrix.</summary>
public interface IClassDisplay : IDisposable
{
    void Show(Classification classification);
}
