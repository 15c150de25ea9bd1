using System.CommandLine;

namespace Qnn.Cli.Commands;

public static class EvalCommand
{
    public static Command Create() => NotBuilt.Create("eval", "Accuracy and confusion matrix of a model on a data set.", 4);
}
