namespace Qnn.Devices;

/// <summary>What runs the model on a target: the portable interpreter on .NET nanoFramework, or the fast path on Linux.</summary>
public enum TargetKind { Microcontroller, LinuxBoard }

/// <summary>
/// One deployable device and the limits a model must fit (the table is <see cref="DeviceTargets"/>).
/// Sizes are in bytes. <see cref="MemoryBytes"/> is the managed heap of a microcontroller or the RAM of a board;
/// <see cref="ReservedBytes"/> of it belongs to the runtime, the app and (on Linux) the OS, so a model's
/// memory plan must fit <see cref="ModelMemoryBytes"/>. <see cref="StorageBytes"/> is the file-system partition
/// (microcontroller) or the free disk (board) the model file must fit.
/// </summary>
public sealed record DeviceTarget(
    string Name,
    string Board,
    TargetKind Kind,
    long MemoryBytes,
    long ReservedBytes,
    long StorageBytes,
    bool StreamsWeights,
    string ModelPath,
    string Sources)
{
    /// <summary>The part of the memory a model's plan (weights, activations, scratch) may use.</summary>
    public long ModelMemoryBytes => MemoryBytes - ReservedBytes;
}
