using ILGPU;
using ILGPU.Runtime;
using Qnn.Format;
using Qnn.Gpu;
using Qnn.Runtime.Gpu.Kernels;

namespace Qnn.Runtime.Gpu;

/// <summary>
/// Runs a .qnn model on batches of images on one ILGPU accelerator with a chosen <see cref="KernelVersion"/>.
/// Activations stay bit-packed on the device in the SPEC 1.2 layout, sample after sample, from the input's
/// bit-planes to the last layer's integer scores; every buffer is allocated once, for <see cref="MaxBatch"/> samples.
/// </summary>
public sealed class GpuInterpreter : IDisposable
{
    /// <summary>Largest device buffer, in elements, that the automatic batch size allows.</summary>
    public const long BufferBudget = 1L << 25;

    private readonly GpuDevice _device;
    private readonly Accelerator _acc;
    private readonly QnnModel _model;
    private readonly GpuLayer[] _layers;
    private readonly MemoryBuffer1D<byte, Stride1D.Dense> _pixels;
    private readonly MemoryBuffer1D<uint, Stride1D.Dense> _planes;
    private readonly MemoryBuffer1D<uint, Stride1D.Dense>[] _outputs;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _scores;
    private readonly MemoryBuffer1D<ulong, Stride1D.Dense> _rows;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _acc32;
    private readonly MemoryBuffer1D<int, Stride1D.Dense> _pooled;
    private MemoryBuffer1D<float, Stride1D.Dense>? _floatRows, _floatOut;
    private CuBlasGemm? _blas;
    private int _resident;

    public QnnModel Model => _model;
    public GpuDevice Device => _device;
    private GpuKernels Kernels => GpuKernels.For(_acc);
    public int MaxBatch { get; }
    public int ClassCount => _model.ClassCount;
    public int SampleBytes => _model.InputHeight * _model.InputWidth * _model.InputChannels;

    /// <param name="model">A model read with its layer data.</param>
    /// <param name="maxBatch">Samples per device pass; lowered so that no buffer exceeds <see cref="BufferBudget"/> elements.</param>
    public GpuInterpreter(GpuDevice device, QnnModel model, int maxBatch = 1024)
    {
        _device = device;
        _acc = device.Accelerator;
        _model = model;
        _layers = model.Layers.Select(l => new GpuLayer(_acc, l)).ToArray();
        long perSample = Math.Max(SampleBytes, model.InputHeight * model.InputWidth * model.InputBits * model.Layers[0].InChannelWords);
        foreach (GpuLayer l in _layers)
            perSample = Math.Max(perSample, Math.Max(l.Spec.OutputWords, l.IsPool ? 0 : Math.Max(
                (long)l.RowsPerSample * l.Spec.InputBits * l.Shape.K64, (long)l.RowsPerSample * Math.Max(l.Spec.OutC, l.FloatK))));
        MaxBatch = (int)Math.Clamp(Math.Min(maxBatch, BufferBudget / Math.Max(1, perSample)), 1, Math.Max(1, maxBatch));

        _pixels = _acc.Allocate1D<byte>((long)MaxBatch * SampleBytes);
        _planes = _acc.Allocate1D<uint>(Math.Max(1, (long)MaxBatch * model.Layers[0].InputWords));
        _outputs = _layers.Select(l => _acc.Allocate1D<uint>(Math.Max(1, (long)MaxBatch * l.Spec.OutputWords))).ToArray();
        _scores = _acc.Allocate1D<int>((long)MaxBatch * model.ClassCount);
        long rows = 1, acc = 1;
        foreach (GpuLayer l in _layers.Where(l => !l.IsPool))
        {
            rows = Math.Max(rows, (long)MaxBatch * l.RowsPerSample * l.Spec.InputBits * l.Shape.K64);
            acc = Math.Max(acc, (long)MaxBatch * l.RowsPerSample * l.Spec.OutC);
        }
        _rows = _acc.Allocate1D<ulong>(rows);
        _acc32 = _acc.Allocate1D<int>(acc);
        _pooled = _acc.Allocate1D<int>(acc);
    }

    /// <summary>Runs <paramref name="count"/> images (H·W·C bytes each); fills scores [count · classes] and predictions [count].</summary>
    public void RunBatch(ReadOnlySpan<byte> images, int count, Span<int> scores, Span<int> predictions, KernelVersion version = KernelVersions.Default)
    {
        CheckImages(images, count);
        for (int start = 0; start < count; start += MaxBatch)
        {
            int n = Math.Min(MaxBatch, count - start);
            Upload(images.Slice(start * SampleBytes, n * SampleBytes), n);
            Forward(version);
            DownloadScores(scores.Slice(start * ClassCount, n * ClassCount));
        }
        Prediction.ArgMax(scores[..(count * _model.ClassCount)], count, predictions);
    }

    /// <summary>
    /// Every layer's output for <paramref name="count"/> images, as the portable interpreter's LayerObserver sees
    /// them: [layer][sample · words + w], SPEC 1.2 words for threshold and pool layers, the class scores cast to
    /// uint for the last layer.
    /// </summary>
    public uint[][] RunLayers(ReadOnlySpan<byte> images, int count, KernelVersion version = KernelVersions.Default)
    {
        CheckImages(images, count);
        var result = new uint[_layers.Length][];
        for (int l = 0; l < _layers.Length; l++) result[l] = new uint[(long)count * LayerWords(l)];
        for (int start = 0; start < count; start += MaxBatch)
        {
            int n = Math.Min(MaxBatch, count - start);
            Upload(images.Slice(start * SampleBytes, n * SampleBytes), n);
            Forward(version);
            for (int l = 0; l < _layers.Length; l++)
            {
                int words = LayerWords(l);
                Span<uint> dst = result[l].AsSpan(start * words, n * words);
                if (l == _layers.Length - 1)
                    _scores.View.AsContiguous().Cast<uint>().SubView(0, dst.Length).CopyToCPU(dst);
                else
                    _outputs[l].View.AsContiguous().SubView(0, dst.Length).CopyToCPU(dst);
            }
        }
        return result;
    }

    /// <summary>Words of layer <paramref name="layer"/>'s output per sample (class count for the last layer).</summary>
    public int LayerWords(int layer) => layer == _layers.Length - 1 ? _model.ClassCount : _layers[layer].Spec.OutputWords;

    /// <summary>Copies up to <see cref="MaxBatch"/> images to the device for <see cref="Forward"/> (used by the benchmark to time the kernels alone).</summary>
    public void Upload(ReadOnlySpan<byte> images, int count)
    {
        if (count < 1 || count > MaxBatch) throw new ArgumentOutOfRangeException(nameof(count), $"1 to {MaxBatch} images per pass");
        _pixels.View.AsContiguous().SubView(0, (long)count * SampleBytes).CopyFromCPU(images[..(count * SampleBytes)]);
        _resident = count;
    }

    /// <summary>Runs the network on the uploaded images and waits for the device.</summary>
    public void Forward(KernelVersion version)
    {
        if (_resident == 0) throw new InvalidOperationException("no images uploaded");
        if (version == KernelVersion.CuBlas && _blas is null)
            _blas = CuBlasGemm.TryCreate(_acc, out string? why) ?? throw new NotSupportedException(why);
        int n = _resident;
        GpuKernels k = Kernels;
        var input = new InputShape
        {
            Pixels = n * _model.InputHeight * _model.InputWidth, Channels = _model.InputChannels,
            ChannelWords = _model.Layers[0].InChannelWords, Bits = _model.InputBits,
        };
        k.BitPlanes(input.Pixels * input.Bits * input.ChannelWords, _pixels.View, _planes.View, input);
        ArrayView<uint> x = _planes.View;
        for (int i = 0; i < _layers.Length; i++)
        {
            GpuLayer layer = _layers[i];
            ArrayView<uint> y = _outputs[i].View;
            if (layer.IsPool) PoolLevels(layer, n, x, y);
            else Convolve(layer, n, x, y, version);
            x = y;
        }
        _acc.Synchronize();
    }

    /// <summary>Copies the scores of the uploaded images (after <see cref="Forward"/>) to <paramref name="scores"/>.</summary>
    public void DownloadScores(Span<int> scores) => _scores.View.AsContiguous().SubView(0, scores.Length).CopyToCPU(scores);

    private void PoolLevels(GpuLayer layer, int n, ArrayView<uint> x, ArrayView<uint> y)
    {
        LayerSpec l = layer.Spec;
        var p = new PoolShape
        {
            Samples = n, InH = l.InH, InW = l.InW, OutH = l.OutH, OutW = l.OutW, PoolH = l.PoolH, PoolW = l.PoolW,
            StrideH = l.PoolStrideH, StrideW = l.PoolStrideW, Channels = l.InC, ChannelWords = l.InChannelWords, Bits = l.InputBits,
        };
        Kernels.PoolLevels(n * l.OutH * l.OutW * l.InChannelWords, x, y, p);
    }

    private void Convolve(GpuLayer layer, int n, ArrayView<uint> x, ArrayView<uint> y, KernelVersion version)
    {
        GpuKernels k = Kernels;
        LayerSpec l = layer.Spec;
        ConvShape s = layer.Shape;
        s.Rows = n * layer.RowsPerSample;
        GemmShape g = layer.Gemm(s.Rows);
        bool pooled = l.PoolH > 0;
        int outRows = n * l.OutH * l.OutW;
        var t = new ThresholdShape { Rows = outRows, Filters = l.OutC, Levels = l.Output == OutputKind.Thresholds ? l.Levels : 0, OutBits = l.OutputBits, OutCW = l.OutChannelWords };

        ArrayView<int> acc = _acc32.View;
        if (version.IsFloat())
        {
            int kf = layer.FloatK;
            EnsureFloatBuffers();
            k.FloatIm2Col(s.Rows * kf, x, _floatRows!.View, s);
            if (version == KernelVersion.FloatBaseline)
                k.FloatGemm(new Index2D(s.Rows, l.OutC), _floatRows.View, layer.FloatWeights, acc, l.OutC, kf);
            else
            {
                _acc.Synchronize();
                _blas!.Multiply(_floatRows.View, layer.FloatWeights, _floatOut!.View, s.Rows, l.OutC, kf);
                _acc.Synchronize();
                k.FloatToInt(s.Rows * l.OutC, _floatOut.View, acc);
            }
        }
        else
        {
            k.Im2Col(s.Rows * s.InPlanes * s.K64, x, _rows.View, s);
            if (layer.LogWeights is { } logWeights)
                k.LogGemm(new Index2D(s.Rows, l.OutC), _rows.View.AsContiguous().Cast<uint>(), logWeights.View, layer.LogPop!.View, acc, g);
            else if (version == KernelVersion.XnorGemm3 && l.Output == OutputKind.Thresholds && !pooled)
            {
                k.XnorGemm3(k.TileGrid(g), _rows.View, layer.Weights!.View, layer.WeightPop!.View,
                    layer.Thresholds!.View, layer.Flip!.View, y, g, t);
                return;
            }
            else if (version == KernelVersion.XnorGemm1)
                k.XnorGemm1(new Index2D(s.Rows, l.OutC), _rows.View.AsContiguous().Cast<uint>(), layer.Weights!.View.AsContiguous().Cast<uint>(), layer.WeightPop!.View, acc, g);
            else
                k.XnorGemm2(k.TileGrid(g), _rows.View, layer.Weights!.View, layer.WeightPop!.View, acc, g);
        }
        if (pooled)
        {
            var p = new PoolShape
            {
                Samples = n, InH = s.ConvH, InW = s.ConvW, OutH = l.OutH, OutW = l.OutW, PoolH = l.PoolH, PoolW = l.PoolW,
                StrideH = l.PoolStrideH, StrideW = l.PoolStrideW, Channels = l.OutC,
            };
            k.PoolAccumulators(outRows * l.OutC, acc, _pooled.View, p);
            acc = _pooled.View;
        }
        if (l.Output == OutputKind.Thresholds)
            k.ThresholdPack(outRows * l.OutChannelWords, acc, layer.Thresholds!.View, layer.Flip!.View, y, t);
        else
            k.Scores(outRows * l.OutC, acc, layer.Offsets!.View, layer.Shifts!.View, _scores.View, l.OutC);
    }

    private void EnsureFloatBuffers()
    {
        if (_floatRows is not null) return;
        long rows = 1, outs = 1;
        foreach (GpuLayer l in _layers.Where(l => !l.IsPool))
        {
            rows = Math.Max(rows, (long)MaxBatch * l.RowsPerSample * l.FloatK);
            outs = Math.Max(outs, (long)MaxBatch * l.RowsPerSample * l.Spec.OutC);
        }
        _floatRows = _acc.Allocate1D<float>(rows);
        _floatOut = _acc.Allocate1D<float>(outs);
    }

    private void CheckImages(ReadOnlySpan<byte> images, int count)
    {
        if (count < 0 || images.Length < (long)count * SampleBytes)
            throw new ArgumentException($"{count} images of {SampleBytes} bytes need {(long)count * SampleBytes} bytes, got {images.Length}");
    }

    public void Dispose()
    {
        foreach (GpuLayer l in _layers) l.Dispose();
        foreach (var b in _outputs) b.Dispose();
        _pixels.Dispose(); _planes.Dispose(); _scores.Dispose(); _rows.Dispose(); _acc32.Dispose(); _pooled.Dispose();
        _floatRows?.Dispose(); _floatOut?.Dispose(); _blas?.Dispose();
    }
}
