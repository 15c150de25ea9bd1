using System.CommandLine;

namespace Qnn.Cli.Commands;

public static class BenchCommand
{
    public static Command Create() => NotBuilt.Create("bench", "Benchmarks.", 3);
}
