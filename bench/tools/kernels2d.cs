#:project ../../runtime-edge/Qnn.Runtime.Edge.Fast/Qnn.Runtime.Edge.Fast.csproj
#:property PublishAot=false
#:property AllowUnsafeBlocks=true
// The BNN paper's 2D-kernel sharing (section 5: each unique 3×3 kernel of one input channel computed once) against the
// fast path's channel-packed XOR-popcount, on one binary conv layer of a model (1-bit weights, 1-bit signed input):
// 1. packed: the fast path's own kernel (PopcountBlock.Rows, every filter's whole KH·KW·C patch, 64 channels a word);
// 2. per channel: for every input channel c the 9-bit patch, one popcount per unique kernel of c (up to sign), then
//    acc_f = Σ_c ±d[c, kernel(f, c)] — a gathered add per (filter, channel), scalar and with AVX2 gathers.
// Both are validated against each other on every pixel, then timed (median of repeats over all pixels of random
// input). The per-channel patches are built outside the timing (a bit transpose the fast path never needs): that
// favours scheme 2. Usage: dotnet run -c Release bench/tools/kernels2d.cs -- MODEL.qnn LAYER [repeats]
using System.Diagnostics;
using System.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Qnn.Format;
using Qnn.Runtime.Edge;
using Qnn.Runtime.Edge.Fast;

var model = ModelFile.Load(args[0]);
var l = model.Layers[int.Parse(args[1])];
int repeats = args.Length > 2 ? int.Parse(args[2]) : 31;
if (l.Kind != LayerKind.Conv2D || l.WeightBits != 1 || l.InputBits != 1 || !l.InputSigned || l.KernelH * l.KernelW > 16)
{ Console.Error.WriteLine("a binary conv (1-bit weights, 1-bit signed input, kernel of at most 16 taps) is needed"); return 1; }
var layer = new FastLayer(l);
var g = layer.Geometry;
int C = l.InC, F = l.OutC, taps = l.KernelH * l.KernelW, cw = l.InChannelWords, fw = l.FilterWords, pixels = g.ConvOutH * g.ConvOutW;
int all = (1 << taps) - 1;

// Unique 2D kernels per channel, up to sign (a kernel and its complement: d negated).
var kernelOf = new int[F * C];      // offset of d[c, u] in the per-pixel table
var negate = new int[F * C];        // −1 where (f, c) uses the negation of its channel's unique kernel
var unique = new List<int>[C];
int uniqueTotal = 0;
for (int c = 0; c < C; c++)
{
    unique[c] = [];
    for (int f = 0; f < F; f++)
    {
        int key = 0;
        for (int p = 0; p < taps; p++) key |= (int)((l.Weights![f * fw + p * cw + (c >> 5)] >> (c & 31)) & 1) << p;
        int u = unique[c].IndexOf(key), n = 0;
        if (u < 0) { u = unique[c].IndexOf(key ^ all); n = u < 0 ? 0 : -1; }
        if (u < 0) { u = unique[c].Count; unique[c].Add(key); }
        kernelOf[f * C + c] = u; negate[f * C + c] = n;
    }
    uniqueTotal += unique[c].Count;
}
int maxUnique = unique.Max(u => u.Count);
for (int i = 0; i < F * C; i++) kernelOf[i] += (i % C) * maxUnique;
var kernels = new int[C * maxUnique];
for (int c = 0; c < C; c++) for (int u = 0; u < unique[c].Count; u++) kernels[c * maxUnique + u] = unique[c][u];

// Random 1-bit input (SPEC 1.2 words), its bit patches for the packed kernel and its 9-bit channel patches.
var rng = new Random(1);
var input = new uint[l.InH * l.InW * cw];
for (int i = 0; i < input.Length; i++) input[i] = (uint)rng.NextInt64(0, 1L << 32) & (i % cw == cw - 1 && (C & 31) != 0 ? (1u << (C & 31)) - 1 : uint.MaxValue);
int stride = layer.PatchWords + 1;
var patches = new ulong[pixels * stride];
var channelPatches = new int[pixels * C];
for (int q = 0; q < pixels; q++)
{
    int oy = q / g.ConvOutW, ox = q % g.ConvOutW;
    BitPatch.Build(l, g, input, oy, ox, layer.PatchWords, patches.AsSpan(q * stride));
    for (int ky = 0; ky < l.KernelH; ky++)
    for (int kx = 0; kx < l.KernelW; kx++)
    {
        int iy = oy * l.StrideH - l.PadTop + ky, ix = ox * l.StrideW - l.PadLeft + kx;
        if (iy < 0 || iy >= l.InH || ix < 0 || ix >= l.InW) continue;   // padding: bit 0
        for (int c = 0; c < C; c++)
            channelPatches[q * C + c] |= (int)((input[(iy * l.InW + ix) * cw + (c >> 5)] >> (c & 31)) & 1) << (ky * l.KernelW + kx);
    }
}

var kernel = PopcountBlock.Resolve(FastKernel.Auto);
int width = layer.Blocks * PopcountBlock.BlockFilters;
var packed = new int[pixels * width];
var shared = new int[pixels * F];
var d = new int[C * maxUnique + 8];

void Packed()
{
    for (int q = 0; q < pixels; q += PopcountBlock.RowBlock)
    {
        int rows = Math.Min(PopcountBlock.RowBlock, pixels - q);
        PopcountBlock.Rows<XorOp>(kernel, patches.AsSpan(q * stride), rows, stride, 1, layer.Weights, layer.Blocks, 1, layer.PatchWords,
            packed.AsSpan(q * width), width);
        for (int i = q * width; i < (q + rows) * width; i++) packed[i] = g.AgreeAll - (packed[i] << 1);
    }
}

void Unique(int q)
{
    // d[c, u] = taps − 2 · popcount(patch_c XOR kernel_u): one small popcount per unique kernel of each channel.
    for (int c = 0; c < C; c++)
    {
        int p = channelPatches[q * C + c];
        for (int u = 0, at = c * maxUnique; u < unique[c].Count; u++, at++) d[at] = taps - (BitOperations.PopCount((uint)(p ^ kernels[at])) << 1);
    }
}

void PerChannelScalar()
{
    for (int q = 0; q < pixels; q++)
    {
        Unique(q);
        for (int f = 0; f < F; f++)
        {
            int acc = 0;
            for (int i = f * C, end = i + C; i < end; i++) acc += (d[kernelOf[i]] ^ negate[i]) - negate[i];
            shared[q * F + f] = acc;
        }
    }
}

// popcounts: false times the gathered adds alone, as if the unique kernels' popcounts were free (a lower bound).
unsafe void PerChannelGather(bool popcounts)
{
    fixed (int* table = d, offsets = kernelOf, signs = negate)
        for (int q = 0; q < pixels; q++)
        {
            if (popcounts) Unique(q);
            for (int f = 0; f < F; f++)
            {
                var acc = Vector256<int>.Zero;
                for (int i = f * C; i < (f + 1) * C; i += 8)
                {
                    var n = Avx.LoadVector256(signs + i);
                    acc += (Avx2.GatherVector256(table, Avx.LoadVector256(offsets + i), 4) ^ n) - n;
                }
                shared[q * F + f] = Vector256.Sum(acc);
            }
        }
}

double Median(Action run)
{
    run();
    var times = new double[repeats];
    for (int r = 0; r < repeats; r++)
    {
        long t0 = Stopwatch.GetTimestamp();
        run();
        times[r] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
    }
    Array.Sort(times);
    return times[repeats / 2];
}

void Check(string name)
{
    for (int q = 0; q < pixels; q++)
        for (int f = 0; f < F; f++)
            if (packed[q * width + f] != shared[q * F + f]) throw new Exception($"{name}: pixel {q} filter {f}: {shared[q * F + f]} ≠ {packed[q * width + f]}");
}

Packed();
PerChannelScalar(); Check("per-channel scalar");
bool gather = Avx2.IsSupported && C % 8 == 0;
if (gather) { Array.Clear(shared); PerChannelGather(true); Check("per-channel gather"); }
Console.WriteLine($"layer {args[1]}: {l.KernelH}x{l.KernelW}x{C} -> {F}, {pixels} pixels; 2D kernels {F * C}, unique up to sign within their input channel " +
    $"(what can be shared: the same input) {uniqueTotal} ({(double)uniqueTotal / (F * C):P0}); {maxUnique} at most in one channel");
Console.WriteLine($"per pixel: packed {F} filters x {layer.PatchWords} words = {F * layer.PatchWords} 64-bit XOR-popcounts ({kernel}: 8 filters a vector);");
Console.WriteLine($"           per channel {uniqueTotal} 9-bit popcounts + {F * C} gathered adds (every (filter, channel) pair)");
Console.WriteLine("validated: both give the same accumulators on every pixel and filter");
double tPacked = Median(Packed), tScalar = Median(PerChannelScalar);
double tGather = gather ? Median(() => PerChannelGather(true)) : double.NaN, tAdds = gather ? Median(() => PerChannelGather(false)) : double.NaN;
Console.WriteLine($"median of {repeats}, whole layer: packed {tPacked:0.0} us; per channel scalar {tScalar:0.0} us ({tScalar / tPacked:0.0}x the packed time)" +
    (gather ? $"; per channel AVX2 gather {tGather:0.0} us ({tGather / tPacked:0.0}x); its gathered adds alone {tAdds:0.0} us ({tAdds / tPacked:0.0}x)" : ""));
return 0;
