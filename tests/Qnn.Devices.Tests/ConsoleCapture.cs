namespace Qnn.Devices.Tests;

/// <summary>Runs a `qnn` command line in-process with stdout and stderr captured (tests using it share the console, see <see cref="ConsoleCollection"/>).</summary>
public static class ConsoleCapture
{
    public sealed record Result(int ExitCode, string Out, string Error);

    public static Result RunQnn(params string[] args) => Run(() => global::Qnn.Cli.Program.BuildRoot().Parse(args).Invoke());

    /// <summary>Runs <paramref name="body"/> with the console captured; its return value is the exit code.</summary>
    public static Result Run(Func<int> body)
    {
        var (oldOut, oldError) = (Console.Out, Console.Error);
        var (stdout, stderr) = (new StringWriter(), new StringWriter());
        Console.SetOut(stdout);
        Console.SetError(stderr);
        try
        {
            int code = body();
            return new Result(code, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
        }
    }
}

/// <summary>Tests that redirect the process's console run one at a time.</summary>
[CollectionDefinition(nameof(ConsoleCollection), DisableParallelization = true)]
public sealed class ConsoleCollection;
