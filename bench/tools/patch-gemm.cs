#:project ../../runtime-edge/Qnn.Runtime.Edge.Fast/Qnn.Runtime.Edge.Fast.csproj
#:property PublishAot=false
// The conv layers' two popcount kernels on patches of given lengths: PopcountBlock.Rows (AVX-512, 4 rows sharing each
// weight load; Harley–Seal for whole groups of 16 words, nibble table for the rest) against HarleySealRows (16 rows,
// every word through Harley–Seal), 16 rows × 16 blocks of 8 filters (weights in L1), checked equal, then timed
// alternately (the median of 3 rounds of the median of 200 × 20 calls, as PopcountLimit takes the median) beside the
// popcount limit measured in the same run. Usage: dotnet run -c Release bench/tools/patch-gemm.cs -- [words,words,...]   (default 18,36,72,5)
using System.Diagnostics;
using Qnn.Runtime.Edge.Fast;
int[] wordsList = args.Length > 0 ? args[0].Split(',').Select(int.Parse).ToArray() : [18, 36, 72, 5];
var rng = new Random(1);
var limit = PopcountLimit.Measure(TimeSpan.FromMilliseconds(300), 1);
Console.WriteLine($"limit {limit.BinaryMacsPerSecond / 1e9:F1} G ({limit.Kernel}), load {File.ReadAllText("/proc/loadavg").Trim()}");
// Two passes, the first unprinted: the first shapes timed in a process ran up to 2× slow (warm-up), whichever kernel.
foreach (var (words, print) in wordsList.Select(w => (w, false)).Concat(wordsList.Select(w => (w, true))))
{
    int blocks = 16, rows = 16, stride = words + 1;
    var patches = Enumerable.Range(0, rows * stride).Select(_ => (ulong)rng.NextInt64()).ToArray();
    var weights = Enumerable.Range(0, blocks * words * 8).Select(_ => (ulong)rng.NextInt64()).ToArray();
    var a = new int[rows * blocks * 8]; var b = new int[rows * blocks * 8];
    void Old() { for (int r = 0; r < rows; r += 4) PopcountBlock.Rows<XorOp>(FastKernel.Avx512, patches.AsSpan(r * stride), 4, stride, 1, weights, blocks, 1, words, a.AsSpan(r * blocks * 8), blocks * 8); }
    void New() => HarleySealRows.Rows<XorOp>(patches, rows, stride, 1, weights, blocks, 1, words, b, blocks * 8);
    Old(); New(); if (!a.SequenceEqual(b)) throw new Exception("differ");
    double macs = (double)rows * blocks * 8 * words * 64;
    double Time(Action f) { var t = new List<double>(); for (int k = 0; k < 200; k++) { var sw = Stopwatch.StartNew(); for (int i = 0; i < 20; i++) f(); t.Add(sw.Elapsed.TotalSeconds / 20); } t.Sort(); return t[t.Count / 2]; }
    var to = new List<double>(); var tn = new List<double>();
    for (int round = 0; round < 3; round++) { to.Add(Time(Old)); tn.Add(Time(New)); }
    to.Sort(); tn.Sort(); double o = to[1], n = tn[1];
    if (print) Console.WriteLine($"{words} words: old {macs / o / 1e9:F0} G ({macs / o / limit.BinaryMacsPerSecond:P0}), new {macs / n / 1e9:F0} G ({macs / n / limit.BinaryMacsPerSecond:P0}), new/old speed {o / n:F2}");
}
