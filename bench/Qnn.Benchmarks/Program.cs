using BenchmarkDotNet.Running;
using Qnn.Format;

namespace Qnn.Benchmarks;

public static class Program
{
    /// <summary>
    /// BenchmarkDotNet's switcher, or <c>--write-mlp PATH [WIDTH]</c>: writes the random-weight MNIST MLP of
    /// <see cref="BenchModels.MnistMlp"/> as a .qnn file for <c>qnn bench compare</c> (BENCHMARKS.md).
    /// </summary>
    public static int Main(string[] args)
    {
        if (args.Length >= 2 && args[0] == "--write-mlp")
        {
            int width = args.Length > 2 ? int.Parse(args[2]) : 1024;
            ModelWriter.WriteFile(BenchModels.MnistMlp(width), args[1]);
            Console.WriteLine($"{args[1]}: MNIST MLP 784-{width}-{width}-{width}-10, random weights");
            return 0;
        }
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
