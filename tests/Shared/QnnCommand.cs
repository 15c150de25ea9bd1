using Qnn.TestSupport;

namespace Qnn.Tests.Shared;

/// <summary>
/// Runs a `qnn` command line in-process (cli/Qnn.Cli) with the console captured. Linked into the test projects that
/// reference the CLI; Qnn.TestSupport itself does not depend on it.
/// </summary>
public static class QnnCommand
{
    public static ConsoleCapture.Result Run(params string[] args) => ConsoleCapture.Run(() => global::Qnn.Cli.Program.BuildRoot().Parse(args).Invoke());
}
