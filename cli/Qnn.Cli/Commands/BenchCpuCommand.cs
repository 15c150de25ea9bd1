using System.CommandLine;

namespace Qnn.Cli.Commands;

public static class BenchCpuCommand
{
    public static Command Create() => NotBuilt.Create("cpu", "Trainer CPU backend GEMM GFLOP/s next to ONNX Runtime MatMul.", 4);
}
