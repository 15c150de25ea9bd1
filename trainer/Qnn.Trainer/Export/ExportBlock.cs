using Qnn.Trainer.Layers;

namespace Qnn.Trainer.Export;

/// <summary>
/// One layer of the exported model, as found in the training graph: a binary product (dense or conv), an optional
/// max-pool on its accumulators, the batch norm, and the activation quantizer (null for the score head) — or a
/// standalone max-pool over levels. Dropouts are identities at inference and belong to no block.
/// </summary>
public sealed record ExportBlock(Layer? Product, MaxPool2D? Pool, BatchNorm? Norm, QuantizedActivation? Activation, MaxPool2D? LevelPool)
{
    public bool IsHead => Product != null && Activation == null;

    /// <summary>Splits a network's layers into blocks, or throws naming the layer that breaks the pattern.</summary>
    public static List<ExportBlock> Parse(IReadOnlyList<Layer> layers)
    {
        layers = LowPrecision.LowPrecisionTraining.InferenceLayers(layers);
        var blocks = new List<ExportBlock>();
        int i = 0;
        int Skip(int j)
        {
            while (j < layers.Count && layers[j] is Dropout) j++;
            return j;
        }
        string At(int j) => j < layers.Count ? $"layer {j} ({layers[j].Kind})" : "the end of the network";
        i = Skip(i);
        while (i < layers.Count)
        {
            if (layers[i] is MaxPool2D levelPool)
            {
                if (blocks.Count == 0 || blocks[^1].Activation == null)
                    throw new NotSupportedException($"{At(i)}: a max-pool must follow a convolution or an activation");
                blocks.Add(new ExportBlock(null, null, null, null, levelPool));
                i = Skip(i + 1);
                continue;
            }
            if (layers[i] is not (BinaryDense or BinaryConv2D))
                throw new NotSupportedException($"{At(i)}: expected binary_dense or binary_conv2d");
            var product = layers[i++];
            MaxPool2D? pool = null;
            if (i < layers.Count && layers[i] is MaxPool2D p && product is BinaryConv2D)
            {
                pool = p;
                i++;
            }
            if (i >= layers.Count || layers[i] is not BatchNorm norm)
                throw new NotSupportedException($"{At(i)}: a batch norm must follow every binary product (it folds into thresholds or scores)");
            i++;
            if (i == layers.Count)
            {
                if (!norm.SharedScale)
                    throw new NotSupportedException($"{At(i - 1)}: the last batch norm needs a shared scale to fold into integer scores");
                blocks.Add(new ExportBlock(product, pool, norm, null, null));
                break;
            }
            if (layers[i] is not QuantizedActivation act)
                throw new NotSupportedException($"{At(i)}: expected an activation quantizer after the batch norm");
            if (norm.SharedScale) throw new NotSupportedException($"{At(i - 1)}: a shared-scale batch norm only ends the network");
            blocks.Add(new ExportBlock(product, pool, norm, act, null));
            i = Skip(i + 1);
        }
        if (blocks.Count == 0 || !blocks[^1].IsHead) throw new NotSupportedException("the network must end with a binary product and a shared-scale batch norm");
        return blocks;
    }
}
