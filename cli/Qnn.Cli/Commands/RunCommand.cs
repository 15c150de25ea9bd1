using System.CommandLine;

namespace Qnn.Cli.Commands;

public static class RunCommand
{
    public static Command Create() => NotBuilt.Create("run", "Classify an image with the edge runtime.", 3);
}
