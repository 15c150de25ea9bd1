namespace Qnn.Benchmarks;

/// <summary>What a benchmark states about where it ran.</summary>
public static class Machine
{
    /// <summary>The CPU's model name as lscpu and /proc/cpuinfo give it, or the OS description.</summary>
    public static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
                foreach (string line in File.ReadLines("/proc/cpuinfo"))
                    if (line.StartsWith("model name", StringComparison.Ordinal))
                        return line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { }
        return System.Runtime.InteropServices.RuntimeInformation.OSDescription;
    }

    /// <summary>The ONNX Runtime package version (the managed assembly's informational version).</summary>
    public static string OnnxRuntimeVersion()
    {
        var assembly = typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly;
        var info = (System.Reflection.AssemblyInformationalVersionAttribute?)Attribute.GetCustomAttribute(assembly, typeof(System.Reflection.AssemblyInformationalVersionAttribute));
        return info?.InformationalVersion.Split('+')[0] ?? assembly.GetName().Version?.ToString() ?? "?";
    }
}
