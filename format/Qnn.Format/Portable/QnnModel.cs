using System;

namespace Qnn.Format
{
    /// <summary>Layer kinds of SPEC 2.3.</summary>
    public enum LayerKind : byte { Dense = 1, Conv2D = 2, MaxPool2D = 3, Embedding = 4, Lstm = 5, Gru = 6 }

    /// <summary>What a layer writes (SPEC 1.6–1.8; 4: the levels of a sequence layer, 1.10).</summary>
    public enum OutputKind : byte { Thresholds = 1, Scores = 2, PooledActivations = 3, Levels = 4 }

    /// <summary>Preprocessing the model's header asks of a raw image (SPEC 2.3).</summary>
    public static class Preprocess
    {
        public const int Invert = 1;
        public const int Center = 2;
    }

    /// <summary>A whole model: the header of SPEC 2.3 and its layers. Layer data may be absent when streamed.</summary>
    public sealed class QnnModel
    {
        public int VersionMajor = FormatConstants.VersionMajor;
        public int VersionMinor = FormatConstants.VersionMinor;
        public int InputHeight;
        public int InputWidth;
        public int InputChannels;
        public int InputBits = 8;
        public int PreprocessFlags;
        public int ClassCount;
        public LayerSpec[] Layers = new LayerSpec[0];
        /// <summary>Class names, or null.</summary>
        public string[]? Labels;
        public string[] MetadataKeys = new string[0];
        public string[] MetadataValues = new string[0];
        /// <summary>XxHash64 model id as stored in the file header (SPEC 2.6).</summary>
        public ulong ModelId;
        /// <summary>Sections in the file's section table (SPEC 2.2) as the reader found them; 0 for a model built in memory.</summary>
        public int SectionCount;

        /// <summary>The metadata value of <paramref name="key"/>, or null.</summary>
        public string? GetMetadata(string key)
        {
            for (int i = 0; i < MetadataKeys.Length; i++)
                if (MetadataKeys[i] == key) return MetadataValues[i];
            return null;
        }
    }

    /// <summary>One layer record (SPEC 2.3) and, when loaded, its LAYER section (SPEC 2.4).</summary>
    public sealed class LayerSpec
    {
        public LayerKind Kind;
        public int WeightBits;
        public int InputBits;
        public bool InputSigned = true;
        public OutputKind Output;
        public int OutputBits;
        public int InH, InW, InC;
        public int OutH, OutW, OutC;
        public int KernelH, KernelW;
        public int StrideH = 1, StrideW = 1;
        public int PadTop, PadLeft, PadBottom, PadRight;
        public int PoolH, PoolW, PoolStrideH, PoolStrideW;
        /// <summary>LSTM/GRU: gate bits g (SPEC 2.3 offset 36); 0 for other kinds.</summary>
        public int GateBits;
        /// <summary>LSTM: cell bits s (SPEC 2.3 offset 37); 0 for other kinds.</summary>
        public int CellBits;

        /// <summary>
        /// Weight block, [f][i][ky][kx][cw] (SPEC 1.3); an Embedding's rows [x][j][ew]; an LSTM's or GRU's W then U
        /// (SPEC 2.4); null while not loaded.
        /// </summary>
        public uint[]? Weights;
        /// <summary>
        /// [c][l] thresholds, L = 2^OutputBits − 1 per channel (output kind 1); an LSTM's or GRU's gate thresholds in
        /// section order, channel by channel, G or L each (<see cref="GateThresholdStart"/>).
        /// </summary>
        public int[]? Thresholds;
        /// <summary>Flip bits, channel c is bit c mod 32 of word c / 32 (output kind 1; an LSTM's or GRU's gate channels).</summary>
        public uint[]? Flip;
        /// <summary>The per-layer thresholds of SPEC 1.10: LSTM S cell, then L tanh, then L hidden; GRU L hidden.</summary>
        public int[]? StateThresholds;
        /// <summary>Per-class offsets and shifts (output kind 2).</summary>
        public int[]? Offsets;
        public int[]? Shifts;

        /// <summary>Where the LAYER section lies in the file (set by the reader).</summary>
        public int DataOffset;
        /// <summary>The weight-word count the record states (SPEC 2.3 offset 32), checked against the shape.</summary>
        public int DeclaredWeightWords;
        public int DataLength;
        public uint DataCrc;

        /// <summary>Words per plane per pixel of the input, ceil(InC / 32).</summary>
        public int InChannelWords { get { return (InC + 31) >> 5; } }

        /// <summary>Words per plane per pixel of the output.</summary>
        public int OutChannelWords { get { return (OutC + 31) >> 5; } }

        /// <summary>Conv output height before the fused pool.</summary>
        public int ConvOutH
        {
            get { return Kind == LayerKind.MaxPool2D ? InH : FormatMath.Div(InH + PadTop + PadBottom - KernelH, StrideH) + 1; }
        }

        /// <summary>Conv output width before the fused pool.</summary>
        public int ConvOutW
        {
            get { return Kind == LayerKind.MaxPool2D ? InW : FormatMath.Div(InW + PadLeft + PadRight - KernelW, StrideW) + 1; }
        }

        /// <summary>Words of one filter: m · KH · KW · CW (an Embedding: one row, k · EW; an LSTM/GRU: its W filter, m · XW).</summary>
        public int FilterWords
        {
            get
            {
                if (Kind == LayerKind.MaxPool2D) return 0;
                if (Kind == LayerKind.Embedding) return FormatMath.Mul(OutputBits, OutChannelWords);
                return FormatMath.Mul(FormatMath.Mul(WeightBits, FormatMath.Mul(KernelH, KernelW)), InChannelWords);
            }
        }

        /// <summary>Embedding, LSTM or GRU (SPEC 1.10).</summary>
        public bool IsSequenceLayer { get { return Kind == LayerKind.Embedding || Kind == LayerKind.Lstm || Kind == LayerKind.Gru; } }

        /// <summary>LSTM or GRU.</summary>
        public bool IsRecurrent { get { return Kind == LayerKind.Lstm || Kind == LayerKind.Gru; } }

        /// <summary>Gates per unit: 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n), else 0.</summary>
        public int GateCount { get { return Kind == LayerKind.Lstm ? 4 : Kind == LayerKind.Gru ? 3 : 0; } }

        /// <summary>An LSTM's or GRU's hidden size H (its output channels).</summary>
        public int HiddenSize { get { return OutC; } }

        /// <summary>Gate channels F = 4H (LSTM) or 3H (GRU); 0 for other kinds.</summary>
        public int GateChannels
        {
            get { return Kind == LayerKind.Lstm ? OutC << 2 : Kind == LayerKind.Gru ? (OutC << 1) + OutC : 0; }
        }

        /// <summary>G = 2^g − 1, the top level of a gate.</summary>
        public int GateLevels { get { return (1 << GateBits) - 1; } }

        /// <summary>S = 2^s − 1, the top level of an LSTM's cell.</summary>
        public int CellLevels { get { return (1 << CellBits) - 1; } }

        /// <summary>Words of one recurrent filter of U: m · HW.</summary>
        public int RecurrentFilterWords { get { return FormatMath.Mul(WeightBits, OutChannelWords); } }

        /// <summary>Words of an LSTM's or GRU's W block, F · m · XW (the U block follows it).</summary>
        public int InputWeightWords { get { return FormatMath.Mul(GateChannels, FilterWords); } }

        /// <summary>
        /// The gate whose threshold count is L (LSTM g = 2, GRU n = 2); the others have G. Gate γ of channel γ·H + u.
        /// </summary>
        public const int CandidateGate = 2;

        /// <summary>Gate thresholds of the layer: H · (3G + L) (LSTM) or H · (2G + L) (GRU).</summary>
        public int GateThresholdCount
        {
            get
            {
                if (!IsRecurrent) return 0;
                int g = GateLevels;
                int perUnit = Kind == LayerKind.Lstm ? (g << 1) + g + Levels : (g << 1) + Levels;
                return FormatMath.Mul(OutC, perUnit);
            }
        }

        /// <summary>Index in <see cref="Thresholds"/> of gate channel <paramref name="channel"/>'s first threshold (SPEC 2.4, section order).</summary>
        public int GateThresholdStart(int channel)
        {
            int h = OutC, g = GateLevels;
            // Channels before the candidate gate have G each; the candidate's have L; an LSTM's o channels follow with G.
            int candidate = h << 1;
            if (channel < candidate) return FormatMath.Mul(channel, g);
            int start = FormatMath.Mul(candidate, g);
            if (channel < candidate + h) return start + FormatMath.Mul(channel - candidate, Levels);
            return start + FormatMath.Mul(h, Levels) + FormatMath.Mul(channel - candidate - h, g);
        }

        /// <summary>Thresholds of gate channel <paramref name="channel"/>: L for the candidate gate, else G.</summary>
        public int GateThresholdsOf(int channel)
        {
            int h = OutC;
            return channel >= (h << 1) && channel < (h << 1) + h ? Levels : GateLevels;
        }

        /// <summary>Per-layer thresholds: S + 2L (LSTM: cell, tanh, hidden), L (GRU: hidden); 0 for other kinds.</summary>
        public int StateThresholdCount
        {
            get { return Kind == LayerKind.Lstm ? CellLevels + (Levels << 1) : Kind == LayerKind.Gru ? Levels : 0; }
        }

        /// <summary>Flip words of an LSTM's or GRU's gate channels, ceil(F / 32).</summary>
        public int GateFlipWords { get { return (GateChannels + 31) >> 5; } }

        /// <summary>
        /// KH·KW·C·(2^m−1)·(2^k−1), the largest |accumulator| of a Dense/Conv2D layer (SPEC 4); -1 when it passes 31
        /// bits. The one home of the bound: the validator, the runtimes, the exporters read it here.
        /// </summary>
        /// <remarks>
        /// For an LSTM or GRU it is the gate bound (X + H)·(2^m−1)·(2^k−1) of SPEC 4, the largest |acc_x + acc_h|;
        /// 0 for an Embedding.
        /// </remarks>
        public int AccumulatorBound
        {
            get
            {
                if (Kind == LayerKind.Embedding) return 0;
                int positions = IsRecurrent ? InC + OutC : FormatMath.Mul(FormatMath.Mul(KernelH, KernelW), InC);
                return FormatMath.Mul(positions, FormatMath.Mul((1 << WeightBits) - 1, (1 << InputBits) - 1));
            }
        }

        /// <summary>
        /// Words of the whole weight block: F · filter words; an Embedding's V rows of k · EW words; an LSTM's or
        /// GRU's W and U, F · m · (XW + HW).
        /// </summary>
        public int WeightWords
        {
            get
            {
                if (Kind == LayerKind.Embedding) return FormatMath.Mul(InC, FilterWords);
                if (IsRecurrent) return FormatMath.Mul(GateChannels, FormatMath.Mul(WeightBits, InChannelWords + OutChannelWords));
                return FormatMath.Mul(OutC, FilterWords);
            }
        }

        /// <summary>
        /// Multiply-accumulates of one inference: one per weight per conv output position before the fused pool,
        /// padding positions included (OH · OW · F · KH · KW · C); 0 for MaxPool2D. The one definition of MACs:
        /// `qnn inspect` shows it, the validator caps it (SPEC section 4) and the benchmarks count bit-plane products
        /// from it. -1 when OH·OW or F·KH·KW·C alone reaches 2^31 (the product is then over the cap anyway).
        /// A sequence model's layers count per step (per token): F · (X + H) for an LSTM/GRU, 0 for an Embedding.
        /// </summary>
        public long Macs
        {
            get
            {
                if (Kind == LayerKind.MaxPool2D || Kind == LayerKind.Embedding) return 0;
                // A recurrent layer per step: one MAC per weight of W and U, F · (X + H).
                if (IsRecurrent) return FormatMath.Mul64(GateChannels, InC + OutC);
                int positions = FormatMath.Mul(ConvOutH, ConvOutW);
                int weights = FormatMath.Mul(FormatMath.Mul(KernelH, KernelW), FormatMath.Mul(InC, OutC));
                if (positions < 0 || weights < 0) return -1;
                return FormatMath.Mul64(positions, weights);
            }
        }

        /// <summary>Thresholds per channel, 2^OutputBits − 1.</summary>
        public int Levels { get { return (1 << OutputBits) - 1; } }

        /// <summary>Bytes of the LAYER section this record implies.</summary>
        public int DataBytes
        {
            get
            {
                if (Kind == LayerKind.MaxPool2D) return 0;
                int words = WeightWords;
                if (IsRecurrent) words += GateThresholdCount + GateFlipWords + StateThresholdCount;
                else if (Output == OutputKind.Thresholds) words += FormatMath.Mul(OutC, Levels) + OutChannelWords;
                else if (Output == OutputKind.Scores) words += OutC << 1;
                return words << 2;
            }
        }

        /// <summary>Words of the output activation tensor (0 for scores).</summary>
        public int OutputWords
        {
            get { return Output == OutputKind.Scores ? 0 : FormatMath.Mul(FormatMath.Mul(OutH, OutW), FormatMath.Mul(OutputBits, OutChannelWords)); }
        }

        /// <summary>Words of the input activation tensor.</summary>
        public int InputWords
        {
            get { return FormatMath.Mul(FormatMath.Mul(InH, InW), FormatMath.Mul(InputBits, InChannelWords)); }
        }

        /// <summary>True when bit c of the flip words is set.</summary>
        public bool IsFlipped(int channel)
        {
            return Flip != null && ((Flip[channel >> 5] >> (channel & 31)) & 1u) != 0;
        }
    }

    public static class FormatConstants
    {
        public const int VersionMajor = 1;
        public const int VersionMinor = 1;
        public const int HeaderBytes = 32;
        public const int SectionEntryBytes = 16;
        public const int LayerRecordBytes = 64;
        public const int ModelHeaderBytes = 16;
        public const uint SectionModel = 1;
        public const uint SectionLayer = 2;
        public const uint SectionLabels = 0x80000001u;
        public const uint SectionMetadata = 0x80000002u;
        public const uint SectionOptionalBit = 0x80000000u;

        public const int MaxFileBytes = 256 << 20;
        public const int MinSections = 2;
        public const int MaxSections = 70;
        public const int MaxLayers = 64;
        public const int MinClasses = 2;
        public const int MaxClasses = 65535;
        public const int MaxSpatial = 4096;
        public const int MaxChannels = 65535;
        public const int MaxKernel = 64;
        public const int MaxBits = 8;
        public const int MaxWeightWords = 16 << 20;
        public const int MaxActivationWords = 16 << 20;
        public const int MaxAccumulatorBound = 1 << 30;
        public const int MaxShift = 16;
        /// <summary>MACs of one inference, summed over the layers, stay below this (2^31; SPEC section 4).</summary>
        public const long MaxMacs = 1L << 31;
        public const int MaxLabelBytes = 63;
        public const int MaxMetadataBytes = 64 << 10;
        public const int MaxMetadataEntries = 256;
    }
}
