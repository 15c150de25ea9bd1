namespace Qnn.TestSupport;

/// <summary>
/// Runs code with stdout and stderr captured. The console is one per process: test classes using it go into a
/// collection with parallelization off (each test project defines its own, xunit needs it in the test assembly).
/// </summary>
public static class ConsoleCapture
{
    public sealed record Result(int ExitCode, string Out, string Error);

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
