using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Qnn.Format;
using Spectre.Console;

namespace Qnn.Cli;

/// <summary>An error in what the user asked for or gave: printed as one line, exit code 1, no stack trace.</summary>
public sealed class UserError(string message) : Exception(message);

/// <summary>What every verb shares: turning expected failures into messages and exit codes, and --json output.</summary>
public static class Cli
{
    /// <summary>Runs a verb's body; expected failures become "qnn VERB: message" on stderr and exit code 1.</summary>
    public static int Run(string verb, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (Exception e) when (e is UserError or Qnn.Verification.VerificationException or QnnFormatException or IOException or InvalidDataException
                                      or UnauthorizedAccessException or OperationCanceledException)
        {
            Console.Error.WriteLine($"qnn {verb}: {e.Message}");
            return 1;
        }
    }

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// A Spectre.Console console on the current Console.Out, for tables (made per call, so tests that redirect the
    /// console see the output). Piped into a file or a test, tables get 160 columns instead of wrapping at 80.
    /// </summary>
    public static IAnsiConsole Out
    {
        get
        {
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
            if (!console.Profile.Out.IsTerminal) console.Profile.Width = 160;
            return console;
        }
    }

    /// <summary>A Spectre.Console console on Console.Error, for progress displays: stdout keeps only the result.</summary>
    public static IAnsiConsole Err => AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    /// <summary>The --limit of eval, verify and quickstart: a count of test images, or 0 for all of them.</summary>
    public static readonly Qnn.Trainer.Training.OptionRange Limit = new("--limit", 1, int.MaxValue, Sentinel: 0, SentinelMeaning: "all");

    /// <summary>A numeric option's value once its range accepts it; else a <see cref="UserError"/> naming the option.</summary>
    public static int Check(Qnn.Trainer.Training.OptionRange range, int value) =>
        range.Problem(value) is { } problem ? throw new UserError(problem) : value;

    public static double Check(Qnn.Trainer.Training.OptionRange range, double value) =>
        range.Problem(value) is { } problem ? throw new UserError(problem) : value;

    /// <summary>Prints a result as JSON on stdout (the --json form of every verb).</summary>
    public static void PrintJson(object value) => Console.Out.WriteLine(JsonSerializer.Serialize(value, value.GetType(), JsonOptions));
}
