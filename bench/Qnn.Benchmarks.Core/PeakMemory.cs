namespace Qnn.Benchmarks;

/// <summary>What one engine cost in memory while it was built and run.</summary>
/// <param name="PeakRssBytes">The process's peak resident set during the phase (all of the process, baseline included).</param>
/// <param name="RssIncreaseBytes">That peak less the resident set when the phase began: what the engine added.</param>
/// <param name="ManagedAllocatedBytes">Bytes the .NET GC handed out during the phase (native memory, e.g. ONNX Runtime's, is not in it).</param>
public sealed record MemoryUse(long PeakRssBytes, long RssIncreaseBytes, long ManagedAllocatedBytes);

/// <summary>
/// Measures the peak memory of one phase of the process. On Linux the kernel's high-water mark (VmHWM in
/// /proc/self/status) is reset by writing 5 to /proc/self/clear_refs, so each phase gets its own peak; elsewhere
/// the phase's peak is the larger of the working set at its start and end (a lower bound).
/// </summary>
public sealed class PeakMemory
{
    private readonly long _baseline;
    private readonly long _allocated;
    private readonly bool _hwm;

    private PeakMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        _hwm = TryResetHighWaterMark();
        _baseline = CurrentRss();
        _allocated = GC.GetTotalAllocatedBytes(true);
    }

    public static PeakMemory Start() => new();

    public MemoryUse Stop()
    {
        long allocated = GC.GetTotalAllocatedBytes(true) - _allocated;
        long peak = _hwm ? ReadStatus("VmHWM:") ?? CurrentRss() : Math.Max(_baseline, CurrentRss());
        return new MemoryUse(peak, Math.Max(0, peak - _baseline), allocated);
    }

    /// <summary>True when this platform resets the peak per phase (Linux with /proc).</summary>
    public static bool PerPhasePeak => OperatingSystem.IsLinux() && File.Exists("/proc/self/clear_refs");

    private static bool TryResetHighWaterMark()
    {
        if (!PerPhasePeak) return false;
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long CurrentRss()
    {
        if (OperatingSystem.IsLinux() && ReadStatus("VmRSS:") is { } rss) return rss;
        using var p = System.Diagnostics.Process.GetCurrentProcess();
        return p.WorkingSet64;
    }

    /// <summary>A "kB" line of /proc/self/status, in bytes.</summary>
    private static long? ReadStatus(string key)
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(key, StringComparison.Ordinal))
                    return long.Parse(line[key.Length..].Trim().Split(' ')[0]) * 1024;
        }
        catch (IOException) { }
        return null;
    }
}
