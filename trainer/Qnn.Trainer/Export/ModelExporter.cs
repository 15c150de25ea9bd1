using System.Globalization;
using Qnn.Format;
using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;
using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.Export;

/// <summary>The exported model and, per layer, how it was folded (the integer evaluation replays it).</summary>
public sealed record ExportedModel(QnnModel Model, List<FoldedBlock> Blocks);

/// <summary>
/// Turns a trained <see cref="Network"/> into a .qnn model (format/SPEC.md): weights quantized to their levels and
/// packed into bit-planes, each batch norm and quantizer folded into integer thresholds (<see cref="ThresholdFold"/>),
/// the head into integer scores (<see cref="ScoreFold"/>), max-pools after a conv fused on its accumulators.
/// </summary>
public static class ModelExporter
{
    /// <summary>Metadata key naming the image (HxWxC) a model with a flattened 1 × 1 × N input was trained on.</summary>
    public const string ImageShapeKey = ImageShape.MetadataKey;

    /// <summary>
    /// Exports <paramref name="network"/>; <paramref name="labels"/> (one per class, e.g. an image folder's class
    /// folders) become the model's LABELS section (SPEC 2.5).
    /// </summary>
    public static ExportedModel Export(Network network, string? dataset = null, string[]? labels = null)
    {
        var blocks = ExportBlock.Parse(network.Layers);
        var specs = new List<LayerSpec>();
        var folded = new List<FoldedBlock>();
        int bits = Network.InputBits;
        bool signed = false;
        // A dense first layer reads the image as one vector: declaring the input 1 × 1 × (H·W·C) packs 32 pixels
        // per weight word instead of one word per pixel (SPEC 1.3 pads channels to whole words at each position).
        bool flatten = blocks[0].Product is BinaryDense && network.InputShape.C % 32 != 0;
        var input = flatten ? new Shape(1, 1, network.InputShape.Size) : network.InputShape;
        foreach (var block in blocks)
        {
            if (block.LevelPool is { } lp)
            {
                var g = lp.Geometry;
                var spec = LayerFactory.MaxPool2D(g.InH, g.InW, g.C, bits, lp.Pool, lp.Stride);
                specs.Add(spec);
                folded.Add(new FoldedBlock(block, spec, 1, [], false));
                continue;
            }
            var f = FoldProduct(network.Backend, block, bits, signed, specs.Count == 0 ? input : null);
            specs.Add(f.Spec);
            folded.Add(f);
            bits = f.Spec.OutputBits;
            signed = true;
        }
        var model = new QnnModel
        {
            InputHeight = input.H, InputWidth = input.W, InputChannels = input.C,
            InputBits = Network.InputBits, ClassCount = network.ClassCount, Layers = specs.ToArray(),
        };
        if (dataset == "mnist")
        {
            // MNIST digits are white on black and centered by their bounding box: ordinary photos of dark ink on
            // paper need both (SPEC 2.3).
            model.PreprocessFlags = Preprocess.Invert | Preprocess.Center;
            model.Labels = Enumerable.Range(0, 10).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        }
        if (labels is not null && labels.Length == network.ClassCount) model.Labels = labels;
        if (flatten)
        {
            var s = network.InputShape;
            model.MetadataKeys = [ImageShapeKey];
            model.MetadataValues = [$"{s.H}x{s.W}x{s.C}"];
        }
        return new ExportedModel(model, folded);
    }

    private static FoldedBlock FoldProduct(IBackend backend, ExportBlock block, int inBits, bool inSigned, Shape? inputOverride)
    {
        LatentWeights weights;
        int kh, kw, stride = 1, pad = 0, outC;
        Shape inShape = inputOverride ?? block.Product!.Input.Shape;
        switch (block.Product!)
        {
            case BinaryDense d:
                weights = d.Weights;
                kh = inShape.H;
                kw = inShape.W;
                outC = d.Units;
                break;
            case BinaryConv2D cv:
                weights = cv.Weights;
                kh = kw = cv.KernelSize;
                stride = cv.Stride;
                pad = cv.Pad;
                outC = cv.Filters;
                break;
            default:
                throw new NotSupportedException($"cannot export {block.Product!.Kind}");
        }
        int m = weights.Bits, mMax = Levels.Max(m), patch = weights.Cols;
        var quantizer = weights.Quantizer;
        bool log = quantizer == WeightQuantizer.Log;
        var latent = new float[weights.Rows * patch];
        backend.Download(weights.Latent, latent);
        // Weight codes (SPEC 1.3): odd levels q, or a log weight's sign bit and exponent; stochastic weights deploy
        // their deterministic sign, the value the eval graph multiplies by.
        var q = new int[latent.Length];
        for (int i = 0; i < q.Length; i++) q[i] = WeightQuantizers.Deployed(quantizer, latent[i], m);

        var (scale, shift) = block.Norm!.InferenceAffine();
        bool negate = block.IsHead && scale[0] < 0f;
        if (negate)
        {
            for (int i = 0; i < q.Length; i++) q[i] = log ? q[i] ^ 1 : mMax - q[i];   // v → −v (a log weight's sign bit)
            scale = scale.Select(a => -a).ToArray();
        }
        // The first layer sees centered pixels 2p − 255 (Network.InputLevel) where the runtime sees p: x = 2·acc − 255·Σ_k v_k.
        int alpha = inSigned ? 1 : Network.InputScale;
        // A linear-grid input (ActivationQuantizer.Linear) is stored as v − 1 where the runtime sees the odd level v:
        // x = acc − Σ_k v_k, an offset per channel that the thresholds or scores absorb (no format change).
        bool linearInput = inSigned && block.Product!.Input.LinearGrid;
        var delta = new long[outC];
        if (!inSigned || linearInput)
            for (int f = 0; f < outC; f++)
            {
                long s = 0;
                for (int k = 0; k < patch; k++) s += WeightQuantizers.Stored(quantizer, q[f * patch + k], m);
                delta[f] = linearInput ? -s : -Network.InputOffset * s;
            }

        OutputKind output = block.IsHead ? OutputKind.Scores : OutputKind.Thresholds;
        int outBits = block.Activation?.Bits ?? 0;
        var code = WeightQuantizers.Code(quantizer);
        LayerSpec spec = block.Product is BinaryConv2D
            ? LayerFactory.Conv2D(inShape.H, inShape.W, inShape.C, outC, kh, kw, stride, pad, m, inBits, inSigned, output, outBits,
                block.Pool?.Pool ?? 0, block.Pool?.Stride ?? 0, code)
            : LayerFactory.Dense(inShape.H, inShape.W, inShape.C, outC, m, inBits, inSigned, output, outBits, code);
        spec.Weights = WeightPacking.Pack(q, outC, kh, kw, inShape.C, m);
        long bound = spec.AccumulatorBound;
        if (bound < 0) throw new InvalidOperationException($"layer {spec.Kind} {inShape.H}x{inShape.W}x{inShape.C} -> {outC}: the accumulator bound passes 31 bits (SPEC 4)");

        if (block.IsHead)
        {
            var (offsets, shifts) = ScoreFold.Fold(scale[0], shift, alpha, delta, bound);
            spec.Offsets = offsets;
            spec.Shifts = shifts;
        }
        else
        {
            int levels = Levels.Max(outBits);
            spec.Thresholds = new int[outC * levels];
            spec.Flip = new uint[spec.OutChannelWords];
            for (int c = 0; c < outC; c++)
            {
                var (t, flip) = ThresholdFold.Fold(scale[c], shift[c], outBits, alpha, delta[c], bound, block.Activation!.Quantizer);
                t.CopyTo(spec.Thresholds, c * levels);
                if (flip) spec.Flip[c >> 5] |= 1u << (c & 31);
            }
        }
        return new FoldedBlock(block, spec, alpha, delta, negate);
    }
}
