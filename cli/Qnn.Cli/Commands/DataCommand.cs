using System.CommandLine;

namespace Qnn.Cli.Commands;

public static class DataCommand
{
    public static Command Create() => NotBuilt.Create("data", "Get and check data sets.", 2);
}
