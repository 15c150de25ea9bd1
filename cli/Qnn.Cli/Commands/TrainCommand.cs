using System.CommandLine;

namespace Qnn.Cli.Commands;

public static class TrainCommand
{
    public static Command Create() => NotBuilt.Create("train", "Train a binarized/quantized network and export it.", 4);
}
