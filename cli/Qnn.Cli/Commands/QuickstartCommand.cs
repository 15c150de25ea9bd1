using System.CommandLine;

namespace Qnn.Cli.Commands;

public static class QuickstartCommand
{
    public static Command Create() => NotBuilt.Create("quickstart", "The whole loop: fetch MNIST, train, export, run on every runtime, verify.", 5);
}
