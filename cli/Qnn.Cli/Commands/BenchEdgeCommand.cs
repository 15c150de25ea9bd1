using System.CommandLine;

namespace Qnn.Cli.Commands;

public static class BenchEdgeCommand
{
    public static Command Create() => NotBuilt.Create("edge", "Edge runtime latency and throughput against the popcount limit.", 3);
}
