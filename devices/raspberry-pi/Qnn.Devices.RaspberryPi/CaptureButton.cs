using System.Device.Gpio;

namespace Qnn.Devices.RaspberryPi;

/// <summary>
/// A push button between a GPIO pin and ground (the pin's pull-up holds it high): each press is a falling edge
/// and triggers <c>pressed</c> once. Contacts bounce for a few milliseconds, so edges closer than
/// <c>debounce</c> to the last accepted one are ignored.
/// </summary>
public sealed class CaptureButton : IDisposable
{
    public static readonly TimeSpan DefaultDebounce = TimeSpan.FromMilliseconds(50);

    private readonly GpioController _gpio;
    private readonly int _pin;
    private readonly TimeSpan _debounce;
    private readonly TimeProvider _time;
    private readonly Action _pressed;
    private readonly Lock _gate = new();
    private long _lastAccepted = long.MinValue;

    public CaptureButton(GpioController gpio, int pin, Action pressed, TimeSpan? debounce = null, TimeProvider? time = null)
    {
        _gpio = gpio;
        _pin = pin;
        _pressed = pressed;
        _debounce = debounce ?? DefaultDebounce;
        _time = time ?? TimeProvider.System;
        _gpio.OpenPin(pin, PinMode.InputPullUp);
        _gpio.RegisterCallbackForPinValueChangedEvent(pin, PinEventTypes.Falling, OnEdge);
    }

    private void OnEdge(object sender, PinValueChangedEventArgs e)
    {
        if (e.ChangeType != PinEventTypes.Falling) return;
        long now = _time.GetTimestamp();
        lock (_gate)
        {
            if (_lastAccepted != long.MinValue && _time.GetElapsedTime(_lastAccepted, now) < _debounce) return;
            _lastAccepted = now;
        }
        _pressed();
    }

    public void Dispose()
    {
        _gpio.UnregisterCallbackForPinValueChangedEvent(_pin, OnEdge);
        _gpio.ClosePin(_pin);
    }
}
