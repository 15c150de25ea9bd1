using System.CommandLine;

namespace Qnn.Cli.Commands;

public static class BenchGpuCommand
{
    public static Command Create() => NotBuilt.Create("gpu", "GPU kernels: time per kernel, speedup over the baseline kernel.", 5);
}
