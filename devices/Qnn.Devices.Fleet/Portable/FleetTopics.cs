namespace Qnn.Devices.Fleet
{
    /// <summary>
    /// The MQTT topics of a fleet (devices/FLEET.md, "Topics"): one tree per group, under <c>qnn/GROUP/</c>.
    /// </summary>
    public static class FleetTopics
    {
        /// <summary>The model the group should run: a signed manifest, retained.</summary>
        public static string Announce(string group) { return "qnn/" + group + "/model"; }

        /// <summary>The manifest the group ran before the last push, retained: what <c>qnn fleet rollback</c> announces again.</summary>
        public static string Previous(string group) { return "qnn/" + group + "/previous"; }

        /// <summary>Chunk <paramref name="index"/> of a model's package, retained until the model is two pushes old.</summary>
        public static string Chunk(string group, string modelId, int index) { return ChunkPrefix(group, modelId) + index.ToString(); }

        public static string ChunkPrefix(string group, string modelId) { return "qnn/" + group + "/chunk/" + modelId + "/"; }

        /// <summary>A device's last status, retained (JSON, <see cref="DeviceStatus"/>).</summary>
        public static string Status(string group, string device) { return "qnn/" + group + "/dev/" + device + "/status"; }

        /// <summary>"1" while a device is connected, "0" from its last will when it drops off, both retained.</summary>
        public static string Online(string group, string device) { return "qnn/" + group + "/dev/" + device + "/online"; }

        /// <summary>
        /// A host's own marker, never retained: published once its subscriptions are in, it comes back after the retained
        /// messages those subscriptions brought (the broker handles one client's packets in order).
        /// </summary>
        public static string HostMarker(string group, string client) { return "qnn/" + group + "/host/" + client; }

        /// <summary>Whether <paramref name="name"/> can be a group or device id: 1–64 of [A-Za-z0-9_-], so it is one topic level.</summary>
        public static bool IsValidName(string name)
        {
            if (name == null || name.Length == 0 || name.Length > 64) return false;
            for (int i = 0; i < name.Length; i++)
            {
                char c = name[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
                if (!ok) return false;
            }
            return true;
        }
    }
}
