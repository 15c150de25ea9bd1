namespace Qnn.Devices;

/// <summary>A program and its arguments, run without a shell; <see cref="Display"/> is how a person would type it.</summary>
public sealed record ToolCommand(string FileName, IReadOnlyList<string> Arguments)
{
    public string Display => string.Join(' ', new[] { FileName }.Concat(Arguments).Select(Quote));

    /// <summary>Single-quotes an argument for a POSIX shell when it holds anything but plain path characters.</summary>
    public static string Quote(string argument)
    {
        if (argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:=@+,%".Contains(c)))
            return argument;
        return "'" + argument.Replace("'", "'\\''") + "'";
    }
}
