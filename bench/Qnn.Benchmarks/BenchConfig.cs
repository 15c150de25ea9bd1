using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Qnn.Benchmarks;

/// <summary>
/// Short runs (3 warm-ups, 3 iterations) in this process: a 2-core machine shared with builds cannot afford
/// BenchmarkDotNet's default of a generated project built per benchmark and many iterations, and its build
/// timeout (2 minutes) is reached there. Memory per operation is reported.
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
        AddDiagnoser(MemoryDiagnoser.Default);
    }
}
