using Qnn.Trainer.Backends;
using Qnn.Trainer.Layers;
using Qnn.Trainer.Quantization;

namespace Qnn.Trainer.Sequence;

/// <summary>What a language model is made of: the cell, the sizes, the bit widths and the dropout between layers.</summary>
public sealed record LmShape(RecurrentCell Cell, int Vocab, int Embed, int Hidden, int Layers, SequenceBits Bits, float Dropout);

/// <summary>
/// A quantized recurrent language model (QNN paper, section 5): an embedding with k-bit entries, LSTM or GRU layers,
/// a dense output layer over the vocabulary with m-bit weights, softmax cross-entropy; dropout between layers while
/// training. The output layer's logits are score_scale · (acc + offset_c) with integer offsets (round(bias / scale)),
/// so the exported integer scores times score_scale are the graph's logits exactly (SPEC 1.10, "Scores and perplexity").
/// </summary>
public sealed class LanguageModel
{
    private readonly int seed;
    private float[] embedLevels = [], outLevels = [];
    private float[] offsets = [], top = [], acc = [], logits = [], dTop = [];
    private readonly List<float[]> masks = [];
    private int[] inputs = [];
    private int rows;

    public LanguageModel(LmShape shape, int maxBatch, int seed)
    {
        Shape = shape;
        this.seed = seed;
        var rng = new Random(seed);
        var bits = shape.Bits;
        float clip = bits.Float ? float.PositiveInfinity : 1f;
        Embedding = SequenceParameters.Uniform("embedding", shape.Vocab, shape.Embed, clip, rng);
        for (int l = 0; l < shape.Layers; l++)
            Layers.Add(new RecurrentLayer(shape.Cell, l == 0 ? shape.Embed : shape.Hidden, shape.Hidden, bits, maxBatch, l, rng));
        OutW = SequenceParameters.Uniform("output.W", shape.Vocab, shape.Hidden, clip, rng);
        float outScale = 1f / (bits.M * bits.L * MathF.Sqrt(shape.Hidden));
        OutScale = SequenceParameters.Of("output.scale", [outScale], outScale);
        OutBias = SequenceParameters.Of("output.bias", new float[shape.Vocab]);
    }

    /// <summary>
    /// Starts the output biases at the log of each token's frequency in <paramref name="tokens"/> (add-one smoothed,
    /// centered): the unigram model, which a few hundred steps of Adam at a small learning rate would not reach.
    /// </summary>
    public void InitializeUnigramBias(ReadOnlySpan<int> tokens)
    {
        var count = new double[Shape.Vocab];
        foreach (int t in tokens) count[t]++;
        var log = count.Select(c => Math.Log(c + 1)).ToArray();
        double mean = log.Average();
        var bias = SequenceParameters.Data(OutBias);
        for (int c = 0; c < bias.Length; c++) bias[c] = (float)(log[c] - mean);
    }

    public LmShape Shape { get; }
    public SequenceBits Bits => Shape.Bits;
    public Parameter Embedding { get; }
    public List<RecurrentLayer> Layers { get; } = [];
    public Parameter OutW { get; }
    public Parameter OutScale { get; }
    public Parameter OutBias { get; }

    public IEnumerable<Parameter> Parameters => new[] { Embedding }.Concat(Layers.SelectMany(l => l.Parameters)).Concat([OutW, OutScale, OutBias]);

    /// <summary>The carried state (every layer's h and c), saved in checkpoints so a resumed run continues mid-epoch.</summary>
    public IEnumerable<CpuTensor> State => Layers.SelectMany(l => new[] { l.StateH, l.StateC });

    /// <summary>Starts every sequence empty (h = 0, c = 0: SPEC 1.10's first step).</summary>
    public void ResetState()
    {
        foreach (var l in Layers) l.ResetState();
    }

    /// <summary>The embedding's rows as the forward pass uses them: odd levels of k bits (latent values in float).</summary>
    public float[] EmbeddingLevels()
    {
        var latent = SequenceParameters.Data(Embedding);
        if (embedLevels.Length != latent.Length) embedLevels = new float[latent.Length];
        for (int i = 0; i < latent.Length; i++) embedLevels[i] = Bits.Float ? latent[i] : Levels.Quantize(latent[i], Bits.Act);
        return embedLevels;
    }

    public float[] OutputLevels() => SequenceParameters.Levels(OutW, Bits, ref outLevels);

    /// <summary>The output layer's integer offset of class c (quantized) or its bias (float).</summary>
    public float Offset(int c) => Bits.Float ? 0f : SequenceLevels.ScoreOffset(SequenceParameters.Data(OutBias)[c], SequenceParameters.Data(OutScale)[0]);

    /// <summary>
    /// Logits [T·B × V] of the tokens <paramref name="tokens"/> (time-major: row t·B + b is step t of sequence b),
    /// from the carried state, which moves to the segment's end. Dropout only when <paramref name="training"/>.
    /// </summary>
    public float[] Forward(ReadOnlySpan<int> tokens, int t, int b, bool training, long step)
    {
        rows = t * b;
        int e = Shape.Embed, v = Shape.Vocab, hid = Shape.Hidden;
        inputs = tokens[..rows].ToArray();
        var emb = EmbeddingLevels();
        var x = new float[rows * e];
        for (int r = 0; r < rows; r++) Array.Copy(emb, inputs[r] * e, x, r * e, e);
        masks.Clear();
        x = Drop(x, rows * e, training, step, 0);
        for (int l = 0; l < Layers.Count; l++)
            x = Drop(Layers[l].Forward(x, t, b), rows * hid, training, step, l + 1);
        if (top.Length < rows * hid) top = new float[rows * hid];
        Array.Copy(x, top, rows * hid);
        if (acc.Length < rows * v) { acc = new float[rows * v]; logits = new float[rows * v]; }
        CpuGemm.Multiply(top, false, OutputLevels(), true, acc, rows, v, hid);
        float s = SequenceParameters.Data(OutScale)[0];
        var bias = SequenceParameters.Data(OutBias);
        if (offsets.Length != v) offsets = new float[v];
        for (int c = 0; c < v; c++) offsets[c] = Offset(c);
        bool quant = !Bits.Float;
        Parallel.For(0, rows, r =>
        {
            int o = r * v;
            for (int c = 0; c < v; c++) logits[o + c] = quant ? s * (acc[o + c] + offsets[c]) : MathF.FusedMultiplyAdd(s, acc[o + c], bias[c]);
        });
        return logits;
    }

    /// <summary>Dropout between layers: kept values scaled by 1 / (1 − p), the mask a hash of (seed, layer, step, index).</summary>
    private float[] Drop(float[] x, int n, bool training, long step, int layer)
    {
        if (!training || Shape.Dropout <= 0f)
        {
            masks.Add([]);
            return x;
        }
        var y = new float[n];
        var mask = new float[n];
        ulong s = DropoutMask.Seed(seed, layer, step);
        float keep = 1f / (1f - Shape.Dropout);
        for (int i = 0; i < n; i++)
        {
            mask[i] = DropoutMask.Keep(s, i, Shape.Dropout) ? keep : 0f;
            y[i] = x[i] * mask[i];
        }
        masks.Add(mask);
        return y;
    }

    private float[] Undrop(float[] dy, int n, int layer)
    {
        var mask = masks[layer];
        if (mask.Length == 0) return dy;
        var d = new float[n];
        for (int i = 0; i < n; i++) d[i] = dy[i] * mask[i];
        return d;
    }

    /// <summary>Adds the gradients of the last <see cref="Forward"/>'s loss, given its gradient <paramref name="dLogits"/>.</summary>
    public void Backward(float[] dLogits)
    {
        int v = Shape.Vocab, hid = Shape.Hidden, e = Shape.Embed;
        float s = SequenceParameters.Data(OutScale)[0];
        bool quant = !Bits.Float;
        var dAcc = new float[rows * v];
        var dScaleRows = new double[rows];
        Parallel.For(0, rows, r =>
        {
            int o = r * v;
            double ds = 0;
            for (int c = 0; c < v; c++)
            {
                float g = dLogits[o + c];
                dAcc[o + c] = s * g;
                ds += g * (quant ? acc[o + c] + offsets[c] : acc[o + c]);
            }
            dScaleRows[r] = ds;
        });
        var dBias = SequenceParameters.Gradient(OutBias);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < v; c++) dBias[c] += dLogits[r * v + c];
        SequenceParameters.Gradient(OutScale)[0] += (float)dScaleRows.Sum();
        var dw = new float[v * hid];
        CpuGemm.Multiply(dAcc, true, top, false, dw, v, hid, rows);
        SequenceParameters.AddLatentGradient(OutW, dw, Bits);
        if (dTop.Length < rows * hid) dTop = new float[rows * hid];
        CpuGemm.Multiply(dAcc, false, outLevels, false, dTop, rows, hid, v);
        var d = Undrop(dTop, rows * hid, Layers.Count);
        for (int l = Layers.Count - 1; l >= 0; l--)
            d = Undrop(Layers[l].Backward(d), rows * (l == 0 ? e : hid), l);
        var dEmb = SequenceParameters.Gradient(Embedding);
        float scale = Bits.L;     // x = L · Q(latent): straight through, times L
        for (int r = 0; r < rows; r++)
        {
            int o = inputs[r] * e;
            for (int j = 0; j < e; j++) dEmb[o + j] += scale * d[r * e + j];
        }
    }

    /// <summary>Zeroes every gradient (before a segment's backward pass).</summary>
    public void ZeroGradients()
    {
        foreach (var p in Parameters) Array.Clear(SequenceParameters.Gradient(p));
    }
}
