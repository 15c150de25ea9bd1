using System;

namespace Qnn.Devices.Fleet
{
    /// <summary>
    /// A device of a fleet (devices/FLEET.md): follows its group's announced model, assembles it chunk by chunk into
    /// the slot it is not running (A/B), checks the signature before anything else and the whole package's SHA-256
    /// before the swap, runs the canary inputs as a self-test, and only then makes the new slot the active one (one
    /// atomic record). Anything refused — unsigned, wrongly signed, truncated, altered, failing its self-test — leaves
    /// the running model as it was and is reported as the status's last error.
    /// Called from one message loop only (the transport's); the same code runs on the Pi and, compiled for
    /// nanoFramework, on an ESP32.
    /// </summary>
    public sealed class FleetAgent
    {
        public const string ActiveRecord = "active";
        private static readonly string[] SlotNames = { "A", "B" };

        private readonly string _group;
        private readonly string _device;
        private readonly IFleetTransport _transport;
        private readonly IFleetStorage _storage;
        private readonly ISignatureVerifier _verifier;
        private readonly ICanaryRunner _canary;
        private readonly IDeviceInfo _info;
        private readonly int[] _pending;
        private readonly FleetManifest?[] _slots = new FleetManifest?[2];
        private int _active = -1;
        private ChunkAssembly? _assembly;
        private string _refused = "";
        private string _current = "";
        private readonly DeviceStatus _status = new DeviceStatus();

        /// <param name="window">How many chunks are asked for at once (each is a subscription to one retained chunk
        /// topic): the most chunk payloads the broker may have in flight to this device.</param>
        public FleetAgent(string group, string device, IFleetTransport transport, IFleetStorage storage, ISignatureVerifier verifier,
                          ICanaryRunner canary, IDeviceInfo info, int window)
        {
            if (!FleetTopics.IsValidName(group)) throw new ArgumentException("group \"" + group + "\": use 1-64 of A-Z a-z 0-9 - _");
            if (!FleetTopics.IsValidName(device)) throw new ArgumentException("device id \"" + device + "\": use 1-64 of A-Z a-z 0-9 - _");
            if (window < 1 || window > 64) throw new ArgumentException("chunk window " + window.ToString() + ": use 1-64");
            _group = group;
            _device = device;
            _transport = transport;
            _storage = storage;
            _verifier = verifier;
            _canary = canary;
            _info = info;
            _pending = new int[window];
            for (int i = 0; i < window; i++) _pending[i] = -1;
            _status.Device = device;
            LoadSlots();
        }

        /// <summary>Chunks accepted since the agent started (a resumed transfer accepts only the missing ones).</summary>
        public int ChunksAccepted { get; private set; }
        public string ActiveModel { get { return _active < 0 ? "" : _slots[_active]!.ModelId; } }
        public string ActiveSlot { get { return _active < 0 ? "" : SlotNames[_active]; } }
        public string LastError { get { return _status.LastError; } }

        /// <summary>After every (re)connection: online flag, the announcement's subscription, the chunks still missing.</summary>
        public void OnConnected()
        {
            _transport.Publish(FleetTopics.Online(_group, _device), Ascii.Bytes("1"), true);
            for (int i = 0; i < _pending.Length; i++) _pending[i] = -1;
            _transport.Subscribe(FleetTopics.Announce(_group));
            if (_assembly != null) RequestChunks();
            PublishStatus();
        }

        public void OnMessage(string topic, byte[] payload)
        {
            try
            {
                if (topic == FleetTopics.Announce(_group)) OnAnnounce(payload);
                else if (_assembly != null && topic.StartsWith(FleetTopics.ChunkPrefix(_group, _assembly.Manifest.ModelId)))
                    OnChunk(topic, payload);
                else if (topic.StartsWith("qnn/" + _group + "/chunk/")) _transport.Unsubscribe(topic);   // of an abandoned transfer
            }
            catch (FleetProtocolException e)
            {
                Refuse(e.Message);
            }
        }

        private void OnAnnounce(byte[] payload)
        {
            if (payload.Length == 0) return;
            _current = "";
            FleetManifest m = FleetManifest.Parse(payload);
            string key = Key(m);
            if (key == _refused) return;   // refused once since the start: not again until a restart or a new push
            _current = key;
            if (m.Signature == null) throw new FleetProtocolException("model " + m.ModelId + ": unsigned, refused");
            if (!_verifier.Verify(m.SignedBytes, m.Signature))
                throw new FleetProtocolException("model " + m.ModelId + ": the signature does not verify with this device's fleet key, refused");
            if (_active >= 0 && _slots[_active]!.Sha256 == m.Sha256)
            {
                Abandon();
                _status.State = "running";
                PublishStatus();
                return;
            }
            int other = _active < 0 ? 0 : 1 - _active;
            if (_slots[other] != null && _slots[other]!.Sha256 == m.Sha256)
            {
                Abandon();
                Activate(other);   // the other slot holds it already (a rollback): no transfer
                return;
            }
            if (_assembly != null && _assembly.Manifest.Sha256 == m.Sha256) return;
            Abandon();
            _assembly = ChunkAssembly.Open(m, _storage);
            _status.State = "receiving";
            if (_assembly.Complete) { Finish(); return; }
            RequestChunks();
            PublishStatus();
        }

        private void OnChunk(string topic, byte[] payload)
        {
            ChunkAssembly assembly = _assembly!;
            string prefix = FleetTopics.ChunkPrefix(_group, assembly.Manifest.ModelId);
            int index = ParseIndex(topic.Substring(prefix.Length));
            for (int i = 0; i < _pending.Length; i++) if (_pending[i] == index) _pending[i] = -1;
            _transport.Unsubscribe(topic);
            if (payload.Length == 0) return;   // a cleared retained chunk
            _current = Key(assembly.Manifest);
            if (assembly.Accept(index, payload)) ChunksAccepted++;
            if (assembly.Complete) { Finish(); return; }
            RequestChunks();
            if ((assembly.Received & 7) == 0) PublishStatus();
        }

        private static int ParseIndex(string text)
        {
            if (text.Length == 0 || text.Length > 9) throw new FleetProtocolException("chunk topic: index \"" + text + "\" is not a number");
            int value = 0;
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (c < '0' || c > '9') throw new FleetProtocolException("chunk topic: index \"" + text + "\" is not a number");
                value = (value << 3) + (value << 1) + (c - '0');
            }
            return value;
        }

        /// <summary>Keeps up to the window's count of missing chunks subscribed.</summary>
        private void RequestChunks()
        {
            ChunkAssembly assembly = _assembly!;
            int from = 0;
            for (int slot = 0; slot < _pending.Length; slot++)
            {
                if (_pending[slot] >= 0) continue;
                int next = assembly.NextMissing(from);
                while (next >= 0 && IsPending(next)) next = assembly.NextMissing(next + 1);
                if (next < 0) return;
                _pending[slot] = next;
                from = next + 1;
                _transport.Subscribe(FleetTopics.Chunk(_group, assembly.Manifest.ModelId, next));
            }
        }

        private bool IsPending(int index)
        {
            for (int i = 0; i < _pending.Length; i++) if (_pending[i] == index) return true;
            return false;
        }

        private void Finish()
        {
            ChunkAssembly assembly = _assembly!;
            FleetManifest m = assembly.Manifest;
            _current = Key(m);
            assembly.CheckWhole();
            int target = _active < 0 ? 0 : 1 - _active;
            _storage.WriteRecord("slot-" + SlotNames[target], "");   // the slot counts again only once its bytes are in
            _storage.CommitStage(SlotNames[target]);
            _storage.WriteRecord("slot-" + SlotNames[target], m.ToText());
            _slots[target] = m;
            ChunkAssembly.Clear(_storage);
            _assembly = null;
            Activate(target);
        }

        /// <summary>What tells two announcements apart: the package and the time of the push.</summary>
        private static string Key(FleetManifest m) { return m.Sha256 + " " + m.Pushed; }

        /// <summary>Self-tests slot <paramref name="target"/> and, when its canary digest is the host's, makes it the active one.</summary>
        private void Activate(int target)
        {
            FleetManifest m = _slots[target]!;
            string kept = _active < 0 ? "no model" : "model " + _slots[_active]!.ModelId + " in slot " + SlotNames[_active];
            CanaryResult result;
            try
            {
                result = _canary.Run(SlotNames[target], m);
            }
            catch (Exception e)
            {
                Unusable(target);
                throw new FleetProtocolException("model " + m.ModelId + " failed its self-test in slot " + SlotNames[target] + ": " + e.Message + "; kept " + kept);
            }
            if (result.Digest != m.DigestPortable)
            {
                Unusable(target);
                throw new FleetProtocolException("model " + m.ModelId + " failed its self-test in slot " + SlotNames[target] + ": canary digest " + result.Digest +
                                                 ", the host's " + m.DigestPortable + "; kept " + kept);
            }
            _storage.WriteRecord(ActiveRecord, SlotNames[target]);   // the swap: one atomic record
            _active = target;
            _status.State = "running";
            _status.LastError = "";
            Report(m, result);
            PublishStatus();
        }

        private void Unusable(int slot)
        {
            _slots[slot] = null;
            _storage.WriteRecord("slot-" + SlotNames[slot], "");
        }

        private void Report(FleetManifest m, CanaryResult result)
        {
            _status.Model = m.ModelId;
            _status.Slot = SlotNames[_active];
            _status.Canary = result.Digest;
            _status.CanaryId = m.CanaryId;
            _status.MicrosecondsPerSample = result.MicrosecondsPerSample;
        }

        private void Refuse(string message)
        {
            if (_assembly != null) ChunkAssembly.Clear(_storage);
            if (_current.Length > 0) _refused = _current;
            Abandon();
            _status.State = "refused";
            _status.LastError = message;
            PublishStatus();
        }

        private void Abandon()
        {
            for (int i = 0; i < _pending.Length; i++)
            {
                if (_pending[i] >= 0 && _assembly != null) _transport.Unsubscribe(FleetTopics.Chunk(_group, _assembly.Manifest.ModelId, _pending[i]));
                _pending[i] = -1;
            }
            _assembly = null;
        }

        private void PublishStatus()
        {
            _status.FreeBytes = _info.FreeBytes();
            _status.Time = _info.Now();
            if (_assembly != null)
            {
                _status.Transfer = _assembly.Manifest.ModelId;
                _status.Received = _assembly.Received;
                _status.Chunks = _assembly.Manifest.Chunks;
            }
            else
            {
                _status.Transfer = "";
                _status.Received = 0;
                _status.Chunks = 0;
            }
            _transport.Publish(FleetTopics.Status(_group, _device), _status.ToJson(), true);
        }

        private void LoadSlots()
        {
            for (int s = 0; s < 2; s++)
            {
                string? text = _storage.ReadRecord("slot-" + SlotNames[s]);
                if (text == null || text.Length == 0) continue;
                try { _slots[s] = FleetManifest.Parse(Ascii.Bytes(text)); }
                catch (FleetProtocolException) { _slots[s] = null; }
            }
            string? active = _storage.ReadRecord(ActiveRecord);
            int index = active == "A" ? 0 : active == "B" ? 1 : -1;
            if (index < 0 || _slots[index] == null) return;
            _active = index;
            try
            {
                Report(_slots[index]!, _canary.Run(SlotNames[index], _slots[index]!));
            }
            catch (Exception e)
            {
                _status.Model = _slots[index]!.ModelId;
                _status.Slot = SlotNames[index];
                _status.LastError = "model " + _slots[index]!.ModelId + " in slot " + SlotNames[index] + ": " + e.Message;
            }
        }
    }
}
