using System.CommandLine;

namespace Qnn.Cli.Commands;

/// <summary>`qnn bench`: one subcommand per thing measured, each in its own file.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Benchmarks that print ratios against a baseline measured in the same run.");
        bench.Subcommands.Add(BenchEdgeCommand.Create());
        bench.Subcommands.Add(BenchGpuCommand.Create());
        bench.Subcommands.Add(BenchCpuCommand.Create());
        bench.Subcommands.Add(BenchTrainCommand.Create());
        bench.Subcommands.Add(BenchCompareCommand.Create());
        bench.Subcommands.Add(BenchPortableCommand.Create());
        return bench;
    }
}
