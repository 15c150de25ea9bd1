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
            string j = "{" + Text("device", Device) + "," + Text("state", State) + "," + Text("model", Model) + "," + Text("slot", Slot) + "," +
                       Text("canary", Canary) + "," + Text("canaryId", CanaryId) + "," +
                       "\"usPerSample\":" + MicrosecondsPerSample.ToString() + "," + "\"freeBytes\":" + FreeBytes.ToString() + "," +
                       Text("lastError", LastError) + "," + Text("transfer", Transfer) + "," +
                       "\"received\":" + Received.ToString() + "," + "\"chunks\":" + Chunks.ToString() + "," + Text("time", Time) + "}";
            return Ascii.Bytes(j);
        }

        private static string Text(string key, string value)
        {
            char[] escaped = new char[value.Length << 1];
            int n = 0;
            for (int i = 0; i < value.Length; i++)
            {
                char c = value[i];
                if (c == '"' || c == '\\') { escaped[n++] = '\\'; escaped[n++] = c; }
                else if (c < ' ') escaped[n++] = ' ';
                else escaped[n++] = c;
            }
            return "\"" + key + "\":\"" + new string(escaped, 0, n) + "\"";
        }
    }
}
