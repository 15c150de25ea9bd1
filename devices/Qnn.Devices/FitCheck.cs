using Qnn.Format;
using Qnn.Runtime.Edge;

namespace Qnn.Devices;

/// <summary>Checks a model against a target of <see cref="DeviceTargets"/> from its memory plan and file size.</summary>
public static class FitCheck
{
    /// <summary>The fit of <paramref name="model"/> (its file has <paramref name="fileBytes"/> bytes) on <paramref name="target"/>.</summary>
    public static FitReport Check(QnnModel model, long fileBytes, DeviceTarget target)
    {
        var report = CheckOne(model, fileBytes, target);
        if (report.Fits) return report;
        var instead = DeviceTargets.All.Where(t => t != target && CheckOne(model, fileBytes, t).Fits).ToList();
        return report with { FitsInstead = instead };
    }

    private static FitReport CheckOne(QnnModel model, long fileBytes, DeviceTarget target)
    {
        var resident = MemoryPlan.Compute(model, streamWeights: false);
        var streamed = target.StreamsWeights ? MemoryPlan.Compute(model, streamWeights: true) : null;
        WeightPlacement? placement = null;
        if (resident.TotalBytes <= target.ModelMemoryBytes) placement = WeightPlacement.Resident;
        else if (streamed is not null && streamed.TotalBytes <= target.ModelMemoryBytes) placement = WeightPlacement.Streamed;
        var memoryPlan = placement == WeightPlacement.Resident || streamed is null ? resident : streamed;
        string memoryName = memoryPlan.Streamed ? "memory (weights streamed)" : "memory (weights resident)";
        var limits = new[]
        {
            new FitLimit("storage (model file)", fileBytes, target.StorageBytes),
            new FitLimit(memoryName, memoryPlan.TotalBytes, target.ModelMemoryBytes),
        };
        return new FitReport(target, fileBytes, resident, streamed, placement, limits, []);
    }
}
