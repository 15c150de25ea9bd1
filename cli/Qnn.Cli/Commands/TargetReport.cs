using Qnn.Format;

namespace Qnn.Cli.Commands;

/// <summary>`qnn inspect MODEL --target esp32|pi`: the memory plan against a device's limits (issue #7).</summary>
public static class TargetReport
{
    /// <summary>Prints the plan of <paramref name="model"/> on <paramref name="target"/>; returns the exit code.</summary>
    public static int Print(QnnModel model, string path, string target, bool json) =>
        throw new UserError($"--target {target}: not built yet (issue #7)");
}
