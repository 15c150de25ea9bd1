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
    /// <summary>Per layer: its unique filters computed once and copied (FilterSharing), or null.</summary>
    private readonly FilterSharing?[] _sharing;

    public FastInterpreter(QnnModel model) : this(model, FastKernel.Auto) { }

    public FastInterpreter(QnnModel model, FastKernel kernel)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        Kernel = PopcountBlock.Resolve(kernel);
        _layers = model.Layers.Select(l => new FastLayer(l)).ToArray();
        // Valid models start with a conv or dense layer over the unsigned image (ModelValidator): FirstConv reads it.
        if (!FirstConv.Applies(_layers[0].Spec, 0)) throw new ArgumentException("the first layer must be a Conv2D or Dense layer over the image (unsigned input)");
        _sharing = _layers.Select(FilterSharing.For).ToArray();
        _firstConv = new FirstConv(_sharing[0]?.Unique ?? _layers[0], model.InputBits);
        _plan = MemoryPlan.Compute(model, false);
        _imageBytes = model.InputHeight * model.InputWidth * model.InputChannels;
        _patchWords = _layers.Max(l => l.Spec.InputBits * l.PatchWords);
        // The accumulator map of a fused pool, for the layers that keep one (the patch GEMM pools without); FirstConv.Row
        // writes whole padded vectors of filters: the last pixel's spill past OutC needs room.
        _accumulators = _layers.Where((_, i) => !PatchGemm(i))
            .Max(l => l.Spec.PoolH > 0 ? l.Geometry.ConvOutH * l.Geometry.ConvOutW * l.Spec.OutC : 0) + _firstConv.PaddedFilters;
        // Rows of whole vectors of 16 (Emit16), and at least Vector<int>.Count.
        int vector = Math.Max(16, Vector<int>.Count);
        _pixelFilters = Math.Max(_firstConv.PaddedFilters, (_layers.Max(l => l.Blocks * PopcountBlock.BlockFilters) + vector - 1) / vector * vector);
    }

    public QnnModel Model => _model;

    /// <summary>Whether layer <paramref name="index"/> computes each unique filter once and copies it (FilterSharing).</summary>
    public bool SharesFilters(int index) => _sharing[index] is not null;

    /// <summary>Bytes of the first layer's masks as <see cref="FirstConv"/> reads them (its weight bytes for an L2 bound).</summary>
    public long FirstLayerMaskBytes => _firstConv.MaskBytes;

    /// <summary>The popcount kernel in use.</summary>
    public FastKernel Kernel { get; }

    /// <summary>Classifies one image (H·W·C 8-bit pixels); fills scores[0 … classes − 1]; returns the predicted class.</summary>
    public int Run(ReadOnlySpan<byte> image, Span<int> scores)
    {
        if (image.Length != _imageBytes) throw new ArgumentException($"the image must have H*W*C = {_imageBytes} bytes");
        if (scores.Length < _model.ClassCount) throw new ArgumentException($"scores must hold {_model.ClassCount} ints");
        var ws = Rent();
        Span<int> prediction = stackalloc int[1];
        try { RunGroup(ws, image, 1, scores, prediction, null, null); }
        finally { _workspaces.Add(ws); }
        return prediction[0];
    }

    /// <summary>
    /// Classifies <paramref name="count"/> images stored one after another, across all cores (ranges of samples,
    /// each with its own buffers), 4 samples at a time through each layer so that a dense layer's weights are read
    /// once for 4 rows. Scores are count · classes ints, sample-major.
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
        // Contiguous ranges of whole groups, a few per core: one workspace per range, and little scheduling per sample.
        const int group = PopcountBlock.RowBlock;
        int groups = (count + group - 1) / group;
        int chunk = Math.Max(1, groups / (4 * Environment.ProcessorCount));
        Parallel.ForEach(Partitioner.Create(0, groups, chunk), range =>
        {
            var ws = Rent();
            try
            {
                for (int g = range.Item1; g < range.Item2; g++)
                {
                    int s = g * group, n = Math.Min(group, count - s);
                    RunGroup(ws, input.AsSpan(s * _imageBytes, n * _imageBytes), n, allScores.AsSpan(s * classes, n * classes), predicted.AsSpan(s, n), null, null);
                }
            }
            finally { _workspaces.Add(ws); }
        });
        allScores.CopyTo(scores);
        predicted.CopyTo(predictions);
    }

    /// <summary>Every layer's output as <see cref="LayerObserver"/> sees it (SPEC 1.2 words; scores as uint for the last layer).</summary>
    public uint[][] RunLayers(ReadOnlySpan<byte> image)
    {
        if (image.Length != _imageBytes) throw new ArgumentException($"the image must have H*W*C = {_imageBytes} bytes");
        var outputs = new uint[_layers.Length][];
        var scores = new int[_model.ClassCount];
        var ws = Rent();
        try { RunGroup(ws, image, 1, scores, new int[1], outputs, null); }
        finally { _workspaces.Add(ws); }
        return outputs;
    }

    /// <summary>
    /// Runs <paramref name="images"/> (1 … 4 samples, one group: a batch's 4 rows per weight load) <paramref name="repeats"/>
    /// times on this thread and returns the median time of each layer per sample (the bench's per-layer figures; the
    /// median resists other processes sharing the cores).
    /// </summary>
    public TimeSpan[] MeasureLayers(ReadOnlySpan<byte> images, int repeats)
    {
        int count = images.Length / Math.Max(1, _imageBytes);
        if (count < 1 || count > PopcountBlock.RowBlock || images.Length != count * _imageBytes)
            throw new ArgumentException($"images must hold 1 to {PopcountBlock.RowBlock} × {_imageBytes} bytes");
        repeats = Math.Max(1, repeats);
        var ticks = new long[repeats][];
        var scores = new int[count * _model.ClassCount];
        var predictions = new int[count];
        var ws = Rent();
        try
        {
            RunGroup(ws, images, count, scores, predictions, null, new long[_layers.Length]); // warm up
            for (int r = 0; r < repeats; r++)
            {
                ticks[r] = new long[_layers.Length];
                RunGroup(ws, images, count, scores, predictions, null, ticks[r]);
            }
        }
        finally { _workspaces.Add(ws); }
        return Enumerable.Range(0, _layers.Length)
            .Select(i => ticks.Select(t => t[i]).Order().ElementAt(repeats / 2))
            .Select(t => TimeSpan.FromSeconds((double)t / Stopwatch.Frequency / count))
            .ToArray();
    }

    private Workspace Rent() =>
        _workspaces.TryTake(out var ws) ? ws : new Workspace(_plan, _patchWords, _accumulators, _pixelFilters, _firstConv.Taps, _firstConv.LevelsLength,
            _layers[0].Geometry.ConvOutW * _firstConv.PaddedFilters, _layers.Max(l => l.Spec.PoolH * l.Spec.PoolW));

    /// <summary>
    /// Runs <paramref name="count"/> (1 … 4) samples through the network together, layer by layer: scores are
    /// count · classes ints and predictions count, sample-major. Sample s's activations live in the workspace's
    /// buffers of slot s; <paramref name="outputs"/> and <paramref name="layerTicks"/> only with one sample.
    /// </summary>
    private void RunGroup(Workspace ws, ReadOnlySpan<byte> images, int count, Span<int> scores, Span<int> predictions, uint[][]? outputs, long[]? layerTicks)
    {
        int classes = _model.ClassCount;
        // The first layer reads the image bytes itself (FirstConv); the activations start with its output.
        bool flip = false;
        for (int i = 0; i < _layers.Length; i++)
        {
            var layer = _layers[i];
            var l = layer.Spec;
            long start = layerTicks != null ? Stopwatch.GetTimestamp() : 0;
            var inputs = flip ? ws.BufferB : ws.BufferA;
            var results = flip ? ws.BufferA : ws.BufferB;
            if (l.Kind == LayerKind.MaxPool2D)
                for (int s = 0; s < count; s++) MaxPoolLevels.Run(l, layer.Geometry, inputs[s], results[s]);
            else if (PatchGemm(i)) RunConv(ws, layer, count, inputs, results, scores);
            else RunWeighted(ws, layer, _sharing[i], i == 0 ? _firstConv : null, images, count, inputs, results, scores);
            if (layerTicks != null) layerTicks[i] += Stopwatch.GetTimestamp() - start;
            if (outputs != null)
            {
                outputs[i] = l.Output == OutputKind.Scores
                    ? MemoryMarshal.Cast<int, uint>(scores[..l.OutC]).ToArray()
                    : results[0].AsSpan(0, l.OutputWords).ToArray();
            }
            flip = !flip;
        }
        for (int s = 0; s < count; s++) predictions[s] = Prediction.ArgMax(scores.Slice(s * classes, classes));
    }

    /// <summary>
    /// One conv or dense layer for every sample of a group: its rows (sample, output pixel), sample-major, go to the
    /// popcount kernel 4 at a time — 4 pixels of one image through a conv, 4 images through a dense layer.
    /// </summary>
    private void RunWeighted(Workspace ws, FastLayer layer, FilterSharing? sharing, FirstConv? first, ReadOnlySpan<byte> images, int count, uint[][] inputs, uint[][] outputs, Span<int> scores)
    {
        var l = layer.Spec;
        var g = layer.Geometry;
        bool thresholds = l.Output == OutputKind.Thresholds;
        if (thresholds) for (int s = 0; s < count; s++) Array.Clear(outputs[s], 0, l.OutputWords);
        bool pooled = l.PoolH > 0;
        int filters = l.OutC, classes = _model.ClassCount, pixels = g.ConvOutH * g.ConvOutW, rowsTotal = count * pixels;
        // The filters the kernels compute: the unique ones where they are shared, copied to all before delivery.
        var computed = sharing?.Unique ?? layer;
        int stride = _pixelFilters, width = computed.Blocks * PopcountBlock.BlockFilters;
        if (first != null)
        {
            // A row of pixels at a time; a fused pool's accumulators are written in place, others delivered pixel by pixel.
            for (int s = 0; s < count; s++)
            {
                var image = images.Slice(s * _imageBytes, _imageBytes);
                first.Levels(image, ws.FirstLevels);
                for (int oy = 0; oy < g.ConvOutH; oy++)
                {
                    if (pooled && sharing is null)
                    {
                        first.Row(image, ws.FirstLevels, oy, ws.Accumulators[s].AsSpan(oy * g.ConvOutW * filters), filters, ws.FirstValues, ws.FirstTaps);
                        continue;
                    }
                    // Shared filters: the row holds the unique filters' accumulators, expanded to every filter per pixel.
                    first.Row(image, ws.FirstLevels, oy, ws.FirstRow, first.PaddedFilters, ws.FirstValues, ws.FirstTaps);
                    for (int ox = 0; ox < g.ConvOutW; ox++)
                        Deliver(ws.Accumulators[s], layer, outputs[s], scores.Slice(s * classes, classes), oy * g.ConvOutW + ox,
                            Shared(ws, sharing, ws.FirstRow.AsSpan(ox * first.PaddedFilters, first.PaddedFilters)), filters);
                }
            }
        }
        else if (computed.Log is { } log)
        {
            // Log weights (SPEC 1.3): one patch, every filter's masked XOR popcounts, shifted by j + e.
            for (int q = 0; q < rowsTotal; q++)
            {
                int s = q / pixels, pixel = q - s * pixels;
                BitPatch.Build(l, g, inputs[s], pixel / g.ConvOutW, pixel % g.ConvOutW, layer.PatchWords, ws.Patch);
                log.Signed(ws.Patch, l.InputBits, ws.PixelAcc);
                Deliver(ws.Accumulators[s], layer, outputs[s], scores.Slice(s * classes, classes), pixel, Shared(ws, sharing, ws.PixelAcc), filters);
            }
        }
        else
        {
            var agreeAll = new Vector<int>(g.AgreeAll);
            // Binary outputs straight from the kernel (thresholds in its epilogue), where the kernel can: each row's
            // output bytes are copied into its pixel, the rest of the output cleared above.
            bool toBits = !pooled && sharing is null && layer.DisagreementBounds is not null && PopcountBlock.FusesThresholds(Kernel, layer.PatchWords);
            for (int q0 = 0; q0 < rowsTotal; q0 += PopcountBlock.RowBlock)
            {
                int rows = Math.Min(PopcountBlock.RowBlock, rowsTotal - q0);
                // Past the first layer every input is signed (SPEC 1.4's XOR form).
                for (int r = 0; r < rows; r++)
                {
                    int s = (q0 + r) / pixels, pixel = q0 + r - s * pixels;
                    BitPatch.Build(l, g, inputs[s], pixel / g.ConvOutW, pixel % g.ConvOutW, layer.PatchWords, ws.Patch.AsSpan(r * ws.PatchStride));
                }
                if (toBits)
                {
                    PopcountBlock.RowsToBits<XorOp>(Kernel, ws.Patch, rows, ws.PatchStride, l.InputBits, layer.Weights, layer.Blocks, l.WeightBits,
                        layer.PatchWords, layer.DisagreementBounds, layer.FlipBits, ws.Bits, ws.BitsStride);
                    for (int r = 0; r < rows; r++)
                    {
                        int s = (q0 + r) / pixels, pixel = q0 + r - s * pixels;
                        ws.Bits.AsSpan(r * ws.BitsStride, layer.Blocks).CopyTo(MemoryMarshal.AsBytes(outputs[s].AsSpan(pixel * g.OutPixelWords, g.OutPixelWords)));
                    }
                    continue;
                }
                // Every block's sums of every row at once, turned into accumulators a vector at a time, then delivered
                // (per-block bookkeeping cost more than the popcounts of a 1024-wide layer).
                PopcountBlock.Rows<XorOp>(Kernel, ws.Patch, rows, ws.PatchStride, l.InputBits, computed.Weights, computed.Blocks, l.WeightBits,
                    layer.PatchWords, ws.PixelAcc, stride);
                for (int r = 0; r < rows; r++)
                {
                    int s = (q0 + r) / pixels, pixel = q0 + r - s * pixels;
                    var sums = ws.PixelAcc.AsSpan(r * stride, stride);
                    if (thresholds && !pooled && sharing is null && Vector512.IsHardwareAccelerated)
                    {
                        // Agreements turned into levels 16 filters at a time, in one pass (a dense layer's common case).
                        var agree = Vector512.Create(g.AgreeAll);
                        for (int q = 0; q < filters; q += 16)
                            layer.Emit16(outputs[s], pixel, q, agree - (Vector512.Create<int>(sums.Slice(q, 16)) << 1));
                        continue;
                    }
                    if (pooled && sharing is null)
                    {
                        // Agreements (SPEC 1.4) written straight into the fused pool's accumulator map: one pass, no copy
                        // (shared filters take the general route below, which expands the unique filters' sums first).
                        var map = ws.Accumulators[s].AsSpan(pixel * filters, filters);
                        int f = 0;
                        for (; f + Vector<int>.Count <= filters; f += Vector<int>.Count) (agreeAll - (new Vector<int>(sums[f..]) << 1)).CopyTo(map[f..]);
                        for (; f < filters; f++) map[f] = g.AgreeAll - (sums[f] << 1);
                        continue;
                    }
                    // Agreements: AgreeAll − 2·(disagreements) (SPEC 1.4), by shift and subtract; the tail past width up
                    // to a whole vector is scratch.
                    for (int f = 0; f < width; f += Vector<int>.Count)
                        (agreeAll - (new Vector<int>(sums[f..]) << 1)).CopyTo(sums[f..]);
                    Deliver(ws.Accumulators[s], layer, outputs[s], scores.Slice(s * classes, classes), pixel, Shared(ws, sharing, sums), filters);
                }
            }
        }
        if (!pooled) return;
        for (int s = 0; s < count; s++)
        {
            var accumulators = ws.Accumulators[s];
            var output = outputs[s];
            var sampleScores = scores.Slice(s * classes, classes);
            for (int py = 0; py < l.OutH; py++)
            for (int px = 0; px < l.OutW; px++)
            {
                int origin = (py * l.PoolStrideH * g.ConvOutW + px * l.PoolStrideW) * filters;
                int f = 0;
                if (thresholds && Vector512.IsHardwareAccelerated)
                    for (; f + 16 <= filters; f += 16)
                    {
                        var best = Vector512.Create(int.MinValue);
                        for (int dy = 0; dy < l.PoolH; dy++)
                        for (int dx = 0; dx < l.PoolW; dx++)
                            best = Vector512.Max(best, Vector512.Create<int>(accumulators.AsSpan(origin + (dy * g.ConvOutW + dx) * filters + f, 16)));
                        layer.Emit16(output, py * l.OutW + px, f, best);
                    }
                if (thresholds)
                    for (; f + 4 <= filters; f += 4)
                    {
                        // Four filters at once: the max of their accumulators over the window, then their levels.
                        var best = Vector128.Create(int.MinValue);
                        for (int dy = 0; dy < l.PoolH; dy++)
                        for (int dx = 0; dx < l.PoolW; dx++)
                            best = Vector128.Max(best, Vector128.Create(accumulators.AsSpan(origin + (dy * g.ConvOutW + dx) * filters + f, 4)));
                        layer.EmitQuad(output, py * l.OutW + px, f, best);
                    }
                for (; f < filters; f++)
                {
                    int best = int.MinValue;
                    for (int dy = 0; dy < l.PoolH; dy++)
                    for (int dx = 0; dx < l.PoolW; dx++)
                        best = Math.Max(best, accumulators[origin + (dy * g.ConvOutW + dx) * filters + f]);
                    Emit(layer, output, sampleScores, py * l.OutW + px, f, best);
                }
            }
        }
    }

    /// <summary>Whether layer <paramref name="i"/> runs as a patch GEMM (<see cref="RunConv"/>): a conv layer past the first, odd weights, no shared filters.</summary>
    private bool PatchGemm(int i) => i > 0 && _layers[i].Spec.Kind == LayerKind.Conv2D && _layers[i].Log is null && _sharing[i] is null;

    /// <summary>
    /// A conv layer past the first (binary weights, no shared filters) as a patch GEMM: rows are output pixels, taken
    /// pool window by pool window where a max-pool is fused, so that the pool is the lane-wise minimum of the window's
    /// disagreement sums (the maximum agreement, SPEC 1.4) straight out of the kernel — no accumulator map written and
    /// read back. Up to the workspace's rows a call: 16 through Harley–Seal where patches have 16 words or more
    /// (<see cref="HarleySealRows"/>), else 4 at a time sharing each weight load (<see cref="PopcountBlock"/>).
    /// </summary>
    private void RunConv(Workspace ws, FastLayer layer, int count, uint[][] inputs, uint[][] outputs, Span<int> scores)
    {
        var l = layer.Spec;
        var g = layer.Geometry;
        bool pooled = l.PoolH > 0;
        int window = pooled ? l.PoolH * l.PoolW : 1, outW = pooled ? l.OutW : g.ConvOutW;
        int outPixels = (pooled ? l.OutH : g.ConvOutH) * outW, classes = _model.ClassCount;
        int windows = Math.Max(1, ws.Rows / window), filters = l.OutC, width = layer.Blocks * PopcountBlock.BlockFilters;
        // Rows of sums a whole number of vectors apart, plus one vector so that the rows do not sit 4 KB apart (16 rows
        // of one L1 set would evict each other).
        int stride = (width + 15 & ~15) + 16;
        bool harleySeal = Kernel == FastKernel.Avx512 && HarleySealRows.Pays(layer.PatchWords);
        var agreeAll = new Vector<int>(g.AgreeAll);
        var agree16 = Vector512.Create(g.AgreeAll);
        bool levels16 = l.Output == OutputKind.Thresholds && Vector512.IsHardwareAccelerated;
        // The rows the kernel writes lie inside the sums buffer: one check here, none per load below.
        if (ws.PixelAcc.Length < ws.Rows * stride) throw new InvalidOperationException("the workspace's sums are too short for this layer");
        for (int s = 0; s < count; s++)
        {
            if (l.Output == OutputKind.Thresholds) Array.Clear(outputs[s], 0, l.OutputWords);
            var input = inputs[s];
            var sampleScores = scores.Slice(s * classes, classes);
            for (int o0 = 0; o0 < outPixels; o0 += windows)
            {
                int n = Math.Min(windows, outPixels - o0), rows = n * window;
                for (int k = 0, r = 0; k < n; k++)
                {
                    int oy = (o0 + k) / outW, ox = o0 + k - oy * outW;
                    if (!pooled) BitPatch.Build(l, g, input, oy, ox, layer.PatchWords, ws.Patch.AsSpan(r++ * ws.PatchStride));
                    else
                        for (int dy = 0; dy < l.PoolH; dy++)
                        for (int dx = 0; dx < l.PoolW; dx++)
                            BitPatch.Build(l, g, input, oy * l.PoolStrideH + dy, ox * l.PoolStrideW + dx, layer.PatchWords, ws.Patch.AsSpan(r++ * ws.PatchStride));
                }
                // Past the first layer every input is signed (SPEC 1.4's XOR form).
                if (harleySeal)
                    HarleySealRows.Rows<XorOp>(ws.Patch, rows, ws.PatchStride, l.InputBits, layer.Weights, layer.Blocks, l.WeightBits, layer.PatchWords, ws.PixelAcc, stride);
                else
                    for (int r = 0; r < rows; r += PopcountBlock.RowBlock)
                        PopcountBlock.Rows<XorOp>(Kernel, ws.Patch.AsSpan(r * ws.PatchStride), Math.Min(PopcountBlock.RowBlock, rows - r), ws.PatchStride,
                            l.InputBits, layer.Weights, layer.Blocks, l.WeightBits, layer.PatchWords, ws.PixelAcc.AsSpan(r * stride), stride);
                for (int k = 0; k < n; k++)
                {
                    if (levels16)
                    {
                        // The window's least disagreements as agreements AgreeAll − 2·d (SPEC 1.4), 16 filters at a time
                        // straight into their levels.
                        ref int row = ref ws.PixelAcc[k * window * stride];
                        int f = 0;
                        if (g.Levels == 1)
                            for (; f + 32 <= filters; f += 32)
                            {
                                var least0 = Vector512.LoadUnsafe(ref row, (nuint)f);
                                var least1 = Vector512.LoadUnsafe(ref row, (nuint)(f + 16));
                                for (int r = 1; r < window; r++)
                                {
                                    least0 = Vector512.Min(least0, Vector512.LoadUnsafe(ref row, (nuint)(r * stride + f)));
                                    least1 = Vector512.Min(least1, Vector512.LoadUnsafe(ref row, (nuint)(r * stride + f + 16)));
                                }
                                layer.Emit32(outputs[s], o0 + k, f, agree16 - (least0 << 1), agree16 - (least1 << 1));
                            }
                        for (; f < filters; f += 16)
                        {
                            var least = Vector512.LoadUnsafe(ref row, (nuint)f);
                            for (int r = 1; r < window; r++) least = Vector512.Min(least, Vector512.LoadUnsafe(ref row, (nuint)(r * stride + f)));
                            layer.Emit16(outputs[s], o0 + k, f, agree16 - (least << 1));
                        }
                        continue;
                    }
                    // The same a vector at a time in place of the window's first row, then delivered; the lanes past width
                    // up to a whole vector are scratch.
                    var sums = ws.PixelAcc.AsSpan(k * window * stride, stride);
                    for (int f = 0; f < width; f += Vector<int>.Count)
                    {
                        var least = new Vector<int>(sums[f..]);
                        for (int r = 1; r < window; r++) least = Vector.Min(least, new Vector<int>(ws.PixelAcc.AsSpan((k * window + r) * stride + f)));
                        (agreeAll - (least << 1)).CopyTo(sums[f..]);
                    }
                    Deliver(layer, outputs[s], sampleScores, o0 + k, sums, filters);
                }
            }
        }
    }

    /// <summary>Every filter's accumulators of one row: the computed ones, or where filters are shared their copies.</summary>
    private static Span<int> Shared(Workspace ws, FilterSharing? sharing, Span<int> computed)
    {
        if (sharing is null) return computed;
        sharing.Expand(computed, ws.SharedAcc);
        return ws.SharedAcc;
    }

    /// <summary>
    /// The accumulators of the filters of one conv output pixel: kept for the fused max-pool, or turned into levels
    /// four filters at a time, or into scores. <paramref name="acc"/> holds count rounded up to 4.
    /// </summary>
    private static void Deliver(int[] accumulators, FastLayer layer, uint[] output, Span<int> scores, int pixel, Span<int> acc, int count)
    {
        var l = layer.Spec;
        if (l.PoolH > 0) acc[..count].CopyTo(accumulators.AsSpan(pixel * l.OutC));
        else Deliver(layer, output, scores, pixel, acc, count);
    }

    /// <summary>The accumulators of the filters of one output pixel turned into levels, 16 or 4 filters at a time, or into scores.</summary>
    private static void Deliver(FastLayer layer, uint[] output, Span<int> scores, int pixel, Span<int> acc, int count)
    {
        if (layer.Spec.Output == OutputKind.Thresholds)
        {
            // acc holds count rounded up to 16 (the workspace's rows); lanes past count write nothing.
            int q = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; q < count; q += 16) layer.Emit16(output, pixel, q, Vector512.Create<int>(acc.Slice(q, 16)));
            for (; q < count; q += 4) layer.EmitQuad(output, pixel, q, Vector128.Create(acc.Slice(q, 4)));
        }
        else
            for (int q = 0; q < count; q++) Emit(layer, output, scores, pixel, q, acc[q]);
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
