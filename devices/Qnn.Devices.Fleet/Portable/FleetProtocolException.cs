using System;

namespace Qnn.Devices.Fleet
{
    /// <summary>A manifest, chunk or stored state that breaks the fleet protocol; the message says what, in one line.</summary>
    public sealed class FleetProtocolException : Exception
    {
        public FleetProtocolException(string message) : base(message) { }
    }
}
