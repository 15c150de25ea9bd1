using Qnn.Format;
using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;
using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.Export;

/// <summary>
/// The trainer's own integer evaluation of an exported model: the training graph's products (exact integers in
/// float32) with each batch norm and quantizer replaced by the exported thresholds, and the head by the exported
/// integer scores. It shares no code with runtime-edge, so agreement on every image checks the packing and the
/// folding from two sides.
/// </summary>
public static class IntegerEvaluation
{
    /// <summary>Integer scores [count × classes] of samples [start, start + count) and the predicted classes.</summary>
    public static (int[] Scores, int[] Predictions) Run(Network network, ExportedModel exported, byte[] pixels, int start, int count)
    {
        var backend = network.Backend;
        int classes = network.ClassCount;
        var scores = new int[count * classes];
        var predictions = new int[count];
        var byNorm = exported.Blocks.Where(b => b.Block.Norm != null).ToDictionary(b => (Layer)b.Block.Norm!);
        var layers = LowPrecision.LowPrecisionTraining.InferenceLayers(network.Layers);
        var levelTensors = new Dictionary<Layer, Tensor>();
        var idx = new int[network.MaxBatch];
        for (int b0 = 0; b0 < count; b0 += network.MaxBatch)
        {
            int n = Math.Min(network.MaxBatch, count - b0);
            for (int i = 0; i < n; i++) idx[i] = start + b0 + i;
            network.SetInput(pixels, idx.AsSpan(0, n));
            Tensor x = network.ForwardTo(0, n);
            for (int li = 0; li < layers.Count; li++)
            {
                var layer = layers[li];
                if (!byNorm.TryGetValue(layer, out var fb))
                {
                    x = layer.Forward(x, n, false, 0);
                    continue;
                }
                var shape = layer.Input.Shape;
                int per = shape.Size, channels = shape.C;
                var pre = new float[n * per];
                backend.Download(x, pre);
                if (fb.Block.IsHead)
                {
                    for (int s = 0; s < n; s++)
                    {
                        for (int c = 0; c < classes; c++)
                            scores[(b0 + s) * classes + c] = (int)((fb.Accumulator(pre[s * per + c], c) << fb.Spec.Shifts![c]) + fb.Spec.Offsets![c]);
                        predictions[b0 + s] = Prediction.ArgMax(scores.AsSpan((b0 + s) * classes, classes));
                    }
                    break;
                }
                int bits = fb.Spec.OutputBits, levels = Levels.Max(bits);
                var outHost = new float[n * per];
                for (int i = 0; i < n * per; i++)
                {
                    int c = i % channels;
                    int q = ThresholdFold.Apply(fb.Accumulator(pre[i], c), fb.Spec.Thresholds.AsSpan(c * levels, levels), fb.Spec.IsFlipped(c));
                    outHost[i] = ActivationQuantizers.Stored(fb.Block.Activation!.Quantizer, q, bits);
                }
                if (!levelTensors.TryGetValue(layer, out var t))
                    levelTensors[layer] = t = backend.Allocate(network.MaxBatch * per);
                backend.Upload(outHost, t);
                x = t;
                li++;   // the activation quantizer is replaced by the thresholds
            }
        }
        foreach (var t in levelTensors.Values) t.Dispose();
        return (scores, predictions);
    }

}
