using System.Text;

namespace Qnn.Devices.Fleet
{
    /// <summary>
    /// A device's status (devices/FLEET.md, "Status"), published retained on its status topic as one JSON object,
    /// written by hand so that a microcontroller needs no JSON library.
    /// </summary>
    public sealed class DeviceStatus
    {
        public string Device = "";
        /// <summary>"running", "receiving" or "refused" (the last transfer was refused; the old model runs).</summary>
        public string State = "running";
        /// <summary>The model id running, or "" when the device has none yet.</summary>
        public string Model = "";
        public string Slot = "";
        public string Canary = "";
        public string CanaryId = "";
        public int MicrosecondsPerSample;
        public long FreeBytes;
        public string LastError = "";
        /// <summary>The model being received, with chunks received of chunks.</summary>
        public string Transfer = "";
        public int Received;
        public int Chunks;
        public string Time = "";

        public byte[] ToJson()
        {
            StringBuilder j = new StringBuilder();
            j.Append('{');
            Text(j, "device", Device); j.Append(',');
            Text(j, "state", State); j.Append(',');
            Text(j, "model", Model); j.Append(',');
            Text(j, "slot", Slot); j.Append(',');
            Text(j, "canary", Canary); j.Append(',');
            Text(j, "canaryId", CanaryId); j.Append(',');
            j.Append("\"usPerSample\":").Append(MicrosecondsPerSample.ToString()).Append(',');
            j.Append("\"freeBytes\":").Append(FreeBytes.ToString()).Append(',');
            Text(j, "lastError", LastError); j.Append(',');
            Text(j, "transfer", Transfer); j.Append(',');
            j.Append("\"received\":").Append(Received.ToString()).Append(',');
            j.Append("\"chunks\":").Append(Chunks.ToString()).Append(',');
            Text(j, "time", Time);
            j.Append('}');
            return Encoding.UTF8.GetBytes(j.ToString());
        }

        private static void Text(StringBuilder j, string key, string value)
        {
            j.Append('"').Append(key).Append("\":\"");
            for (int i = 0; i < value.Length; i++)
            {
                char c = value[i];
                if (c == '"' || c == '\\') j.Append('\\').Append(c);
                else if (c < ' ') j.Append(' ');
                else j.Append(c);
            }
            j.Append('"');
        }
    }
}
