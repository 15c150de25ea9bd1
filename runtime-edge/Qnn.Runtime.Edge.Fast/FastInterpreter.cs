using Qnn.Format;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Qnn.Runtime.Edge.Fast;

/// <summary>
/// The fast .NET path (desktops, Raspberry Pi): the same integers as the portable <see cref="Interpreter"/>,
/// computed pixel by pixel as a binary GEMM: each output pixel's window is laid out as a bit patch
/// (<see cref="BitPatch"/>) and multiplied against 8 filters at a time with 64-bit popcounts or SIMD
/// (<see cref="PopcountBlock"/>). Activations stay in the SPEC 1.2 layout between layers, so every layer's output
/// compares word for word with the portable interpreter's. Standalone max-pool reuses the portable code. Safe to call from several threads: each call borrows its own buffers.
/// </summary>
public sealed class FastInterpreter
{
    private readonly QnnModel _model;
    private readonly FastLayer[] _layers;
    private readonly MemoryPlan _plan;
    private readonly int _imageBytes;
    private readonly int _patchWords;
    private readonly int _accumulators;
    /// <summary>The accumulators one output pixel needs: every filter of the widest layer, padded.</summary>
    private readonly int _pixelFilters;
    private readonly ConcurrentBag<Workspace> _workspaces = [];
    /// <summary>The first layer, computed straight from the image bytes (see FirstConv).</summary>
    private readonly FirstConv _firstConv;

    public FastInterpreter(QnnModel model) : this(model, FastKernel.Auto) { }

    public FastInterpreter(QnnModel model, FastKernel kernel)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        Kernel = PopcountBlock.Resolve(kernel);
        _layers = model.Layers.Select(l => new FastLayer(l)).ToArray();
        // Valid models start with a conv or dense layer over the unsigned image (ModelValidator): FirstConv reads it.
        if (!FirstConv.Applies(_layers[0].Spec, 0)) throw new ArgumentException("the first layer must be a Conv2D or Dense layer over the image (unsigned input)");
        _firstConv = new FirstConv(_layers[0], model.InputBits);
        _plan = MemoryPlan.Compute(model, false);
        _imageBytes = model.InputHeight * model.InputWidth * model.InputChannels;
        _patchWords = _layers.Max(l => l.Spec.InputBits * l.PatchWords);
        _accumulators = _layers.Max(l => l.Spec.PoolH > 0 ? l.Geometry.ConvOutH * l.Geometry.ConvOutW * l.Spec.OutC : 0);
        int vector = Vector<int>.Count;
        _pixelFilters = Math.Max(_firstConv.PaddedFilters, (_layers.Max(l => l.Blocks * PopcountBlock.BlockFilters) + vector - 1) / vector * vector);
    }

    public QnnModel Model => _model;

    /// <summary>The popcount kernel in use.</summary>
    public FastKernel Kernel { get; }

    /// <summary>Classifies one image (H·W·C 8-bit pixels); fills scores[0 … classes − 1]; returns the predicted class.</summary>
    public int Run(ReadOnlySpan<byte> image, Span<int> scores)
    {
        var ws = Rent();
        try { return RunOne(ws, image, scores, null, null); }
        finally { _workspaces.Add(ws); }
    }

    /// <summary>
    /// Classifies <paramref name="count"/> images stored one after another, across all cores (ranges of samples,
    /// each with its own buffers). Scores are count · classes ints, sample-major.
    /// </summary>
    public void RunBatch(ReadOnlySpan<byte> images, int count, Span<int> scores, Span<int> predictions)
    {
        int classes = _model.ClassCount;
        if (count < 0 || images.Length < (long)count * _imageBytes) throw new ArgumentException($"images must hold {count} × {_imageBytes} bytes");
        if (scores.Length < (long)count * classes) throw new ArgumentException($"scores must hold {count} × {classes} ints");
        if (predictions.Length < count) throw new ArgumentException($"predictions must hold {count} ints");
        if (count == 0) return;
        // Parallel.For cannot capture spans: the batch is copied into arrays once (a small cost next to inference).
        byte[] input = images[..(count * _imageBytes)].ToArray();
        int[] allScores = new int[count * classes];
        int[] predicted = new int[count];
        // Contiguous ranges, a few per core: one workspace per range, and little scheduling per sample.
        int chunk = Math.Max(1, count / (4 * Environment.ProcessorCount));
        Parallel.ForEach(Partitioner.Create(0, count, chunk), range =>
        {
            var ws = Rent();
            try
            {
                for (int s = range.Item1; s < range.Item2; s++)
                    predicted[s] = RunOne(ws, input.AsSpan(s * _imageBytes, _imageBytes), allScores.AsSpan(s * classes, classes), null, null);
            }
            finally { _workspaces.Add(ws); }
        });
        allScores.CopyTo(scores);
        predicted.CopyTo(predictions);
    }

    /// <summary>Every layer's output as <see cref="LayerObserver"/> sees it (SPEC 1.2 words; scores as uint for the last layer).</summary>
    public uint[][] RunLayers(ReadOnlySpan<byte> image)
    {
        var outputs = new uint[_layers.Length][];
        var scores = new int[_model.ClassCount];
        var ws = Rent();
        try { RunOne(ws, image, scores, outputs, null); }
        finally { _workspaces.Add(ws); }
        return outputs;
    }

    /// <summary>
    /// Runs <paramref name="image"/> <paramref name="repeats"/> times on this thread and returns the median time of
    /// each layer (the bench's per-layer figures; the median resists other processes sharing the cores).
    /// </summary>
    public TimeSpan[] MeasureLayers(ReadOnlySpan<byte> image, int repeats)
    {
        repeats = Math.Max(1, repeats);
        var ticks = new long[repeats][];
        var scores = new int[_model.ClassCount];
        var ws = Rent();
        try
        {
            RunOne(ws, image, scores, null, new long[_layers.Length]); // warm up
            for (int r = 0; r < repeats; r++)
            {
                ticks[r] = new long[_layers.Length];
                RunOne(ws, image, scores, null, ticks[r]);
            }
        }
        finally { _workspaces.Add(ws); }
        return Enumerable.Range(0, _layers.Length)
            .Select(i => ticks.Select(t => t[i]).Order().ElementAt(repeats / 2))
            .Select(t => TimeSpan.FromSeconds((double)t / Stopwatch.Frequency))
            .ToArray();
    }

    private Workspace Rent() =>
        _workspaces.TryTake(out var ws) ? ws : new Workspace(_plan, _patchWords, _accumulators, _pixelFilters, _firstConv.Taps);

    private int RunOne(Workspace ws, ReadOnlySpan<byte> image, Span<int> scores, uint[][]? outputs, long[]? layerTicks)
    {
        if (image.Length != _imageBytes) throw new ArgumentException($"the image must have H*W*C = {_imageBytes} bytes");
        if (scores.Length < _model.ClassCount) throw new ArgumentException($"scores must hold {_model.ClassCount} ints");
        // The first layer reads the image bytes itself (FirstConv); the activations start with its output.
        uint[] input = ws.BufferA, output = ws.BufferB;
        for (int i = 0; i < _layers.Length; i++)
        {
            var layer = _layers[i];
            var l = layer.Spec;
            long start = layerTicks != null ? Stopwatch.GetTimestamp() : 0;
            if (l.Kind == LayerKind.MaxPool2D) MaxPoolLevels.Run(l, layer.Geometry, input, output);
            else RunWeighted(ws, layer, i == 0 ? _firstConv : null, image, input, output, scores);
            if (layerTicks != null) layerTicks[i] += Stopwatch.GetTimestamp() - start;
            if (outputs != null)
            {
                outputs[i] = l.Output == OutputKind.Scores
                    ? MemoryMarshal.Cast<int, uint>(scores[..l.OutC]).ToArray()
                    : output.AsSpan(0, l.OutputWords).ToArray();
            }
            (input, output) = (output, input);
        }
        return Prediction.ArgMax(scores[.._model.ClassCount]);
    }

    private void RunWeighted(Workspace ws, FastLayer layer, FirstConv? first, ReadOnlySpan<byte> image, uint[] input, uint[] output, Span<int> scores)
    {
        var l = layer.Spec;
        var g = layer.Geometry;
        bool thresholds = l.Output == OutputKind.Thresholds;
        if (thresholds) Array.Clear(output, 0, l.OutputWords);
        bool pooled = l.PoolH > 0;
        int filters = l.OutC;
        for (int oy = 0; oy < g.ConvOutH; oy++)
        for (int ox = 0; ox < g.ConvOutW; ox++)
        {
            if (first != null)
            {
                first.Window(image, oy, ox, ws.PixelAcc, ws.FirstValues, ws.FirstTaps);
                Deliver(ws, layer, output, scores, oy * g.ConvOutW + ox, 0, ws.PixelAcc, filters);
                continue;
            }
            // Past the first layer every input is signed (SPEC 1.4's XOR form).
            BitPatch.Build(l, g, input, oy, ox, layer.PatchWords, ws.Patch);
            // Every block's sums into one row of the pixel's filters, turned into accumulators a vector at a time,
            // then delivered at once (per-block bookkeeping cost more than the popcounts of a 1024-wide layer).
            int pixel = oy * g.ConvOutW + ox, width = layer.Blocks * PopcountBlock.BlockFilters;
            var sums = ws.PixelAcc;
            Accumulate(layer, ws.Patch, sums.AsSpan(0, width));
            // Agreements: AgreeAll − 2·(disagreements) (SPEC 1.4), by shift and subtract; the tail past width up to a
            // whole vector is scratch.
            var agreeAll = new Vector<int>(g.AgreeAll);
            for (int f = 0; f < width; f += Vector<int>.Count)
                (agreeAll - (new Vector<int>(sums, f) << 1)).CopyTo(sums, f);
            Deliver(ws, layer, output, scores, pixel, 0, sums, filters);
        }
        if (!pooled) return;
        for (int py = 0; py < l.OutH; py++)
        for (int px = 0; px < l.OutW; px++)
        {
            int origin = (py * l.PoolStrideH * g.ConvOutW + px * l.PoolStrideW) * filters;
            int f = 0;
            if (thresholds)
                for (; f + 4 <= filters; f += 4)
                {
                    // Four filters at once: the max of their accumulators over the window, then their levels.
                    var best = Vector128.Create(int.MinValue);
                    for (int dy = 0; dy < l.PoolH; dy++)
                    for (int dx = 0; dx < l.PoolW; dx++)
                        best = Vector128.Max(best, Vector128.Create(ws.Accumulators.AsSpan(origin + (dy * g.ConvOutW + dx) * filters + f, 4)));
                    layer.EmitQuad(output, py * l.OutW + px, f, best);
                }
            for (; f < filters; f++)
            {
                int best = int.MinValue;
                for (int dy = 0; dy < l.PoolH; dy++)
                for (int dx = 0; dx < l.PoolW; dx++)
                    best = Math.Max(best, ws.Accumulators[origin + (dy * g.ConvOutW + dx) * filters + f]);
                Emit(layer, output, scores, py * l.OutW + px, f, best);
            }
        }
    }

    /// <summary>
    /// The accumulators of filters f0 … f0 + count − 1 of one conv output pixel: kept for the fused max-pool, or
    /// turned into levels four filters at a time, or into scores. <paramref name="acc"/> holds count rounded up to 4.
    /// </summary>
    private static void Deliver(Workspace ws, FastLayer layer, uint[] output, Span<int> scores, int pixel, int f0, int[] acc, int count)
    {
        var l = layer.Spec;
        if (l.PoolH > 0) acc.AsSpan(0, count).CopyTo(ws.Accumulators.AsSpan(pixel * l.OutC + f0));
        else if (l.Output == OutputKind.Thresholds)
            for (int q = 0; q < count; q += 4) layer.EmitQuad(output, pixel, f0 + q, Vector128.Create(acc.AsSpan(q, 4)));
        else
            for (int q = 0; q < count; q++) Emit(layer, output, scores, pixel, f0 + q, acc[q]);
    }

    /// <summary>
    /// sums[f] = Σ_i Σ_j popcount(patch_j XOR W_i,f) &lt;&lt; (i + j) (disagreements) for every filter of the layer,
    /// padded to whole blocks.
    /// </summary>
    private void Accumulate(FastLayer layer, ulong[] patch, Span<int> sums)
    {
        var l = layer.Spec;
        for (int b = 0; b < layer.Blocks; b++)
            PopcountBlock.BlockPlanes<XorOp>(Kernel, patch, l.InputBits, layer.BlockWeights(b), l.WeightBits, layer.PatchWords,
                sums.Slice(b * PopcountBlock.BlockFilters, PopcountBlock.BlockFilters));
    }

    /// <summary>Turns one accumulator into its output: a level written to the planes (SPEC 1.6), or a score (1.7).</summary>
    private static void Emit(FastLayer layer, uint[] output, Span<int> scores, int pixel, int f, int acc)
    {
        if (layer.Spec.Output == OutputKind.Scores)
        {
            scores[f] = (acc << layer.Shifts[f]) + layer.Offsets[f];
            return;
        }
        var g = layer.Geometry;
        int q;
        if (g.Levels == 1) q = (layer.Flipped[f] ? acc <= layer.Thresholds[f] : acc >= layer.Thresholds[f]) ? 1 : 0;
        else q = Interpreter.Level(acc, layer.Thresholds, f * g.Levels, g.Levels, layer.Flipped[f]);
        if (q == 0) return;
        int at = pixel * g.OutPixelWords + (f >> 5);
        uint bit = 1u << (f & 31);
        for (; q != 0; q >>= 1, at += g.OutChannelWords)
            if ((q & 1) != 0) output[at] |= bit;
    }
}
