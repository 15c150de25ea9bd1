using System.CommandLine;

namespace Qnn.Cli.Commands;

public static class ExportCommand
{
    public static Command Create() => NotBuilt.Create("export", "Export a model to another format (ONNX).", 8);
}
