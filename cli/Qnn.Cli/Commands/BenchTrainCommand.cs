using System.CommandLine;

namespace Qnn.Cli.Commands;

public static class BenchTrainCommand
{
    public static Command Create() => NotBuilt.Create("train", "Bitwise training path against the float path.", 6);
}
