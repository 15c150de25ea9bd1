using System.CommandLine;

namespace Qnn.Cli.Commands;

public static class VerifyCommand
{
    public static Command Create() => NotBuilt.Create("verify", "Check that runtimes give identical integers on a data set.", 5);
}
