using System.Device.Gpio;

namespace Qnn.Devices.Tests.Fakes;

/// <summary>
/// A GPIO driver with no hardware: records pin modes and writes, and lets a test raise an edge on a pin as the
/// kernel would, by calling the callbacks registered for it.
/// </summary>
public sealed class FakeGpioDriver : GpioDriver
{
    private readonly Dictionary<int, PinMode> _modes = [];
    private readonly Dictionary<int, PinValue> _values = [];
    private readonly List<(int Pin, PinEventTypes Types, PinChangeEventHandler Callback)> _callbacks = [];

    public IReadOnlyDictionary<int, PinMode> Modes => _modes;

    public int CallbackCount => _callbacks.Count;

    /// <summary>Raises an edge on <paramref name="pin"/> for every callback registered for that edge.</summary>
    public void Edge(int pin, PinEventTypes edge)
    {
        _values[pin] = edge == PinEventTypes.Falling ? PinValue.Low : PinValue.High;
        foreach (var (p, types, callback) in _callbacks.ToArray())
            if (p == pin && (types & edge) != 0) callback(this, new PinValueChangedEventArgs(edge, pin));
    }

    protected override int PinCount => 28;

    protected override void OpenPin(int pinNumber) => _modes[pinNumber] = PinMode.Input;

    protected override void ClosePin(int pinNumber) => _modes.Remove(pinNumber);

    protected override void SetPinMode(int pinNumber, PinMode mode) => _modes[pinNumber] = mode;

    protected override PinMode GetPinMode(int pinNumber) => _modes[pinNumber];

    protected override bool IsPinModeSupported(int pinNumber, PinMode mode) => true;

    protected override PinValue Read(int pinNumber) => _values.GetValueOrDefault(pinNumber, PinValue.High);

    protected override void Write(int pinNumber, PinValue value) => _values[pinNumber] = value;

    protected override WaitForEventResult WaitForEvent(int pinNumber, PinEventTypes eventTypes, CancellationToken cancellationToken) =>
        new() { TimedOut = true };

    protected override void AddCallbackForPinValueChangedEvent(int pinNumber, PinEventTypes eventTypes, PinChangeEventHandler callback) =>
        _callbacks.Add((pinNumber, eventTypes, callback));

    protected override void RemoveCallbackForPinValueChangedEvent(int pinNumber, PinChangeEventHandler callback) =>
        _callbacks.RemoveAll(c => c.Pin == pinNumber && c.Callback == callback);
}
