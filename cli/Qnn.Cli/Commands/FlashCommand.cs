using System.CommandLine;

namespace Qnn.Cli.Commands;

public static class FlashCommand
{
    public static Command Create() => NotBuilt.Create("flash", "Check a model fits a device and deploy it.", 7);
}
