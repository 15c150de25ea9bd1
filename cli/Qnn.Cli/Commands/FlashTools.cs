using System.Diagnostics;
using Qnn.Devices;

namespace Qnn.Cli.Commands;

/// <summary>Finds the external tools `qnn flash` drives (nanoff, scp, ssh) and runs them with the console attached.</summary>
public static class FlashTools
{
    /// <summary>The full path of <paramref name="tool"/> on PATH, or null when it is not installed.</summary>
    public static string? Find(string tool)
    {
        var extensions = OperatingSystem.IsWindows()
            ? (Environment.GetEnvironmentVariable("PATHEXT") ?? ".EXE;.CMD;.BAT").Split(';', StringSplitOptions.RemoveEmptyEntries)
            : [""];
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            foreach (var extension in extensions)
            {
                string candidate = Path.Combine(folder, tool + extension);
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }

    /// <summary>
    /// Runs <paramref name="command"/> with this console's standard streams; with <paramref name="outputToStderr"/>
    /// (the --json form) its output goes to stderr so that stdout keeps only the JSON. A non-zero exit is a
    /// <see cref="UserError"/>.
    /// </summary>
    public static void Run(ToolCommand command, string executable, bool outputToStderr)
    {
        var start = new ProcessStartInfo(executable) { UseShellExecute = false, RedirectStandardOutput = outputToStderr };
        foreach (var argument in command.Arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new UserError($"could not start {command.FileName}");
        if (outputToStderr)
        {
            process.OutputDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine(e.Data); };
            process.BeginOutputReadLine();
        }
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new UserError($"`{command.Display}` failed with exit code {process.ExitCode}");
    }
}
