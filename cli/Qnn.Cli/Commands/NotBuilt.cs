using System.CommandLine;

namespace Qnn.Cli.Commands;

/// <summary>A verb whose issue has not landed: says so and exits 2, with no placeholder output.</summary>
public static class NotBuilt
{
    public static Command Create(string name, string description, int issue)
    {
        var command = new Command(name, description + " (not built yet)") { TreatUnmatchedTokensAsErrors = false };
        command.SetAction(_ =>
        {
            Console.Error.WriteLine($"qnn {name}: not built yet (issue #{issue}).");
            return 2;
        });
        return command;
    }
}
