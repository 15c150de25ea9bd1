using Qnn.Runtime.Edge;

namespace Qnn.Devices;

/// <summary>How the weights sit in memory on the device: all loaded, or read from the file layer by layer.</summary>
public enum WeightPlacement { Resident, Streamed }

/// <summary>One limit of a target against what a model needs of it.</summary>
public sealed record FitLimit(string Name, long NeedBytes, long HaveBytes)
{
    public bool Fits => NeedBytes <= HaveBytes;
}

/// <summary>
/// Whether a model fits a target: the file against the storage, the memory plan (weights resident if they fit,
/// else streamed where the target can stream) against the memory left for the model, and the other targets of
/// the table that the model would fit instead.
/// </summary>
public sealed record FitReport(
    DeviceTarget Target,
    long FileBytes,
    MemoryPlan ResidentPlan,
    MemoryPlan? StreamedPlan,
    WeightPlacement? Placement,
    IReadOnlyList<FitLimit> Limits,
    IReadOnlyList<DeviceTarget> FitsInstead)
{
    public bool Fits => Placement is not null && Limits.All(l => l.Fits);

    /// <summary>The plan the device would run with: the chosen one, or the smallest one when nothing fits.</summary>
    public MemoryPlan Plan => Placement == WeightPlacement.Resident || StreamedPlan is null ? ResidentPlan : StreamedPlan;

    /// <summary>One sentence: fits (and how), or which limits it breaks and what would fit instead.</summary>
    public string Summary
    {
        get
        {
            if (Fits)
                return $"fits {Target.Name}: weights {(Placement == WeightPlacement.Resident ? "resident in memory" : "streamed from flash layer by layer")}, "
                     + $"{Bytes.Format(Plan.TotalBytes)} of {Bytes.Format(Target.ModelMemoryBytes)} memory, "
                     + $"file {Bytes.Format(FileBytes)} of {Bytes.Format(Target.StorageBytes)} storage";
            var broken = Limits.Where(l => !l.Fits)
                .Select(l => $"{l.Name} needs {Bytes.Format(l.NeedBytes)}, has {Bytes.Format(l.HaveBytes)}");
            string instead = FitsInstead.Count == 0
                ? "No target in the table fits it: make the model smaller (fewer or narrower layers, fewer weight bits)"
                : "It would fit " + string.Join(", ", FitsInstead.Select(t => $"{t.Name} ({t.Board})"));
            return $"does not fit {Target.Name}: {string.Join("; ", broken)}. {instead}";
        }
    }
}
