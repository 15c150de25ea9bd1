using System.CommandLine;

namespace Qnn.Cli.Commands;

public static class InspectCommand
{
    public static Command Create() => NotBuilt.Create("inspect", "Summary of a .qnn model file.", 2);
}
