using System.CommandLine;
using Qnn.Cli.Commands;

namespace Qnn.Cli;

public static class Program
{
    public static int Main(string[] args) => BuildRoot().Parse(args).Invoke();

    /// <summary>The whole command tree; tests call it to run verbs in-process.</summary>
    public static RootCommand BuildRoot()
    {
        Qnn.Trainer.Gpu.IlgpuBackend.Register();   // --backend ilgpu in the trainer's registry
        var root = new RootCommand("qnn: train, export, inspect, run and verify quantized neural networks (Hubara et al. 2016) for edge devices and GPUs.");
        root.Subcommands.Add(DataCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(FlashCommand.Create());
        root.Subcommands.Add(FleetCommand.Create());
        root.Subcommands.Add(QuickstartCommand.Create());
        return root;
    }
}
