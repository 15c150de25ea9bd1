namespace Qnn.Devices;

/// <summary>
/// The table of deployment targets: the one place their limits are written. Where a number comes from is in
/// <see cref="DeviceTarget.Sources"/>; the reserves are estimates (the device app measures its free heap at start
/// and streams weights when the resident plan does not fit, so a wrong reserve shows there, not as a crash).
/// </summary>
public static class DeviceTargets
{
    private const long KiB = 1024, MiB = 1024 * KiB, GiB = 1024 * MiB;

    /// <summary>Plain ESP32-WROOM-32 (no PSRAM, 4 MB flash) under .NET nanoFramework.</summary>
    public static readonly DeviceTarget Esp32 = new(
        Name: "esp32",
        Board: "ESP32-WROOM-32, 4 MB flash, no PSRAM (.NET nanoFramework, ESP32_REV0 firmware)",
        Kind: TargetKind.Microcontroller,
        MemoryBytes: 84 * KiB,
        ReservedBytes: 24 * KiB,
        StorageBytes: 256 * KiB,
        StreamsWeights: true,
        ModelPath: @"I:\model.qnn",
        Sources: "heap: nanoCLR allocates an 84 KiB managed heap from internal RAM when there is no PSRAM "
               + "(nf-interpreter targets/ESP32/_nanoCLR/Memory.cpp, INTERNAL_MEMORY_SIZE); reserve: estimate for the "
               + "CLR's type system, the app, the model header and the file stream; storage: the 256 KB file-system "
               + "partition (I:) of the 4 MB flash layout");

    /// <summary>ESP32 with 4 MB PSRAM (e.g. ESP32-WROVER), where nanoCLR puts the managed heap in PSRAM.</summary>
    public static readonly DeviceTarget Esp32Psram = new(
        Name: "esp32-psram",
        Board: "ESP32-WROVER (4 MB PSRAM), 4 MB flash (.NET nanoFramework, ESP32_PSRAM_REV0 firmware)",
        Kind: TargetKind.Microcontroller,
        MemoryBytes: 3 * MiB + 512 * KiB,
        ReservedBytes: 24 * KiB,
        StorageBytes: 256 * KiB,
        StreamsWeights: true,
        ModelPath: @"I:\model.qnn",
        Sources: "heap: nanoCLR takes the largest free PSRAM block less 256 KiB left to ESP-IDF "
               + "(nf-interpreter targets/ESP32/_nanoCLR/Memory.cpp); of 4 MiB PSRAM we plan 3.5 MiB; storage: the "
               + "same 256 KB file-system partition of a 4 MB flash");

    /// <summary>Raspberry Pi 3/4/5 with 1 GB RAM or more, Raspberry Pi OS 64-bit, the fast interpreter.</summary>
    public static readonly DeviceTarget Pi = new(
        Name: "pi",
        Board: "Raspberry Pi 3/4/5, 1 GB RAM or more, Raspberry Pi OS (64-bit) on an 8 GB SD card",
        Kind: TargetKind.LinuxBoard,
        MemoryBytes: 1 * GiB,
        ReservedBytes: 512 * MiB,
        StorageBytes: 4 * GiB,
        StreamsWeights: false,
        ModelPath: "~/qnn/model.qnn",
        Sources: "RAM: the smallest 64-bit Pi boards have 1 GB; reserve: half of it for the OS, the .NET runtime "
               + "and the app; storage: what an 8 GB card leaves after Raspberry Pi OS Lite");

    /// <summary>Every target, smallest first: the order in which "fits instead" suggestions are made.</summary>
    public static IReadOnlyList<DeviceTarget> All { get; } = [Esp32, Esp32Psram, Pi];

    /// <summary>The target named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static DeviceTarget? Find(string name) =>
        All.FirstOrDefault(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The names, for help texts and error messages.</summary>
    public static string Names => string.Join(", ", All.Select(t => t.Name));
}
