using System;

namespace Qnn.Devices.Fleet
{
    /// <summary>
    /// The MQTT connection as the device logic sees it. On the Pi: MQTTnet (MqttFleetTransport); on an ESP32: the
    /// board's MQTT client (nanoFramework's M2Mqtt), which NuGet here does not serve. Every call may block; the
    /// agent calls them from its one message loop, never from the client's receive thread.
    /// </summary>
    public interface IFleetTransport
    {
        /// <summary>Subscribes at QoS 1; retained messages on the topic are delivered.</summary>
        void Subscribe(string topic);
        void Unsubscribe(string topic);
        /// <summary>Publishes at QoS 1.</summary>
        void Publish(string topic, byte[] payload, bool retain);
    }

    /// <summary>
    /// The device's storage: two slots (A and B) holding whole packages, a staging area a transfer is assembled in,
    /// and small text records. Replacing a record or a slot is atomic (write beside, then rename), so a power cut
    /// leaves the old or the new one, never a mixture.
    /// </summary>
    public interface IFleetStorage
    {
        /// <summary>The record's text, or null when there is none.</summary>
        string? ReadRecord(string name);
        void WriteRecord(string name, string text);
        /// <summary>Makes the staging area <paramref name="size"/> bytes long, its content undefined.</summary>
        void ResetStage(int size);
        void WriteStage(int offset, byte[] data, int start, int count);
        /// <summary>Reads <paramref name="count"/> bytes of the staging area at <paramref name="offset"/>.</summary>
        void ReadStage(int offset, byte[] buffer, int start, int count);
        /// <summary>Moves the staging area into slot "A" or "B", replacing it atomically; the stage is then empty.</summary>
        void CommitStage(string slot);
    }

    /// <summary>Checks the manifest's signature with the fleet's public key (ECDSA P-256, SHA-256, r‖s).</summary>
    public interface ISignatureVerifier
    {
        bool Verify(byte[] signedBytes, byte[] signature);
    }

    /// <summary>Runs the canary inputs of a slot's package through the model: the self-test and the status digest.</summary>
    public interface ICanaryRunner
    {
        /// <summary>
        /// Loads the model of slot <paramref name="slot"/> and runs its canary inputs: XxHash64 of the scores (16 hex
        /// digits, as Qnn.Verification's digest) and the microseconds per sample. Throws with a one-line message when
        /// the model does not load or run.
        /// </summary>
        CanaryResult Run(string slot, FleetManifest manifest);
    }

    public sealed class CanaryResult
    {
        public string Digest;
        public int MicrosecondsPerSample;

        public CanaryResult(string digest, int microsecondsPerSample)
        {
            Digest = digest;
            MicrosecondsPerSample = microsecondsPerSample;
        }
    }

    /// <summary>What the device says about itself in a status: free memory and the time.</summary>
    public interface IDeviceInfo
    {
        long FreeBytes();
        /// <summary>UTC now, ISO 8601.</summary>
        string Now();
    }
}
