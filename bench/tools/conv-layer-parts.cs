#:project ../../runtime-edge/Qnn.Runtime.Edge.Fast/Qnn.Runtime.Edge.Fast.csproj
#:project ../../format/Qnn.Format/Qnn.Format.csproj
#:property PublishAot=false
// Where a conv layer's time goes on the fast path: for each conv layer past the first of a model, the whole layer
// (FastInterpreter.MeasureLayers, per sample of a group of 4, median of 30) beside its parts timed alone on random
// input activations (median of 30): building every patch (BitPatch.Build), and the popcounts of all patches by
// HarleySealRows (16 rows a call) and by PopcountBlock.Rows (AVX-512, 4 rows a call). The layer less the patches and
// the kernel is its delivery: pool, thresholds, output packing. Two rounds.
// Usage: dotnet run -c Release bench/tools/conv-layer-parts.cs -- MODEL.qnn
using System.Diagnostics;
using Qnn.Format;
using Qnn.Runtime.Edge;
using Qnn.Runtime.Edge.Fast;
var model = ModelFile.Load(args[0]);
var rng = new Random(1);
var images = new byte[4 * model.InputHeight * model.InputWidth * model.InputChannels]; rng.NextBytes(images);
var fast = new FastInterpreter(model);
double Time(Action f, int reps) { var t = new List<double>(); for (int k = 0; k < reps; k++) { var sw = Stopwatch.StartNew(); f(); t.Add(sw.Elapsed.TotalSeconds); } t.Sort(); return t[t.Count / 2]; }
Console.WriteLine($"load {File.ReadAllText("/proc/loadavg").Trim()}");
for (int round = 0; round < 2; round++)
{
    var layerTimes = fast.MeasureLayers(images, 30);
    for (int i = 1; i < model.Layers.Length; i++)
    {
        var l = model.Layers[i];
        if (l.Kind != LayerKind.Conv2D) continue;
        var fl = new FastLayer(l); var g = fl.Geometry;
        var input = new uint[l.InH * g.InRowWords]; for (int k = 0; k < input.Length; k++) input[k] = (uint)rng.Next() ^ ((uint)rng.Next() << 16);
        int pixels = g.ConvOutH * g.ConvOutW, stride = fl.PatchWords + 1, R = 16;
        var patch = new ulong[pixels * stride];
        var sums = new int[R * fl.Blocks * 8];
        double build = Time(() => { for (int p = 0; p < pixels; p++) BitPatch.Build(l, g, input, p / g.ConvOutW, p % g.ConvOutW, fl.PatchWords, patch.AsSpan(p * stride)); }, 30);
        double kernel = Time(() => { for (int p = 0; p < pixels; p += R) HarleySealRows.Rows<XorOp>(patch.AsSpan(p * stride), Math.Min(R, pixels - p), stride, 1, fl.Weights, fl.Blocks, 1, fl.PatchWords, sums, fl.Blocks * 8); }, 30);
        double old = Time(() => { for (int p = 0; p < pixels; p += 4) PopcountBlock.Rows<XorOp>(FastKernel.Avx512, patch.AsSpan(p * stride), Math.Min(4, pixels - p), stride, 1, fl.Weights, fl.Blocks, 1, fl.PatchWords, sums, fl.Blocks * 8); }, 30);
        double macs = (double)pixels * l.OutC * l.KernelH * l.KernelW * l.InC;
        Console.WriteLine($"layer {i}: layer {layerTimes[i].TotalMicroseconds:F1} us ({macs / layerTimes[i].TotalSeconds / 1e9:F0} G); patches {build * 1e6:F1} us; HarleySealRows {kernel * 1e6:F1} us ({macs / kernel / 1e9:F0} G); PopcountBlock.Rows {old * 1e6:F1} us ({macs / old / 1e9:F0} G)");
    }
}
