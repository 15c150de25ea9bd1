using System.CommandLine;

namespace Qnn.Cli.Commands;

public static class BenchCompareCommand
{
    public static Command Create() => NotBuilt.Create("compare", "Edge runtime against ONNX Runtime on the same network.", 8);
}
