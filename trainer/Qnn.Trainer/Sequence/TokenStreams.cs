namespace Qnn.Trainer.Sequence;

/// <summary>
/// A token sequence cut into B parallel streams (stream b is the b-th contiguous piece), read in segments of up to T
/// steps: the input of step i is token i of the stream, its target token i + 1. The one rule for training,
/// evaluation and the integer evaluation, so they score the same predictions: each stream starts empty and carries
/// its state across segments.
/// </summary>
public sealed class TokenStreams
{
    private readonly int[] tokens;

    public TokenStreams(int[] tokens, int streams)
    {
        if (streams < 1) throw new ArgumentException("at least one stream");
        this.tokens = tokens;
        Streams = streams;
        Length = Math.Max(0, (tokens.Length - 1) / streams);
    }

    public int Streams { get; }
    /// <summary>Predicted tokens per stream.</summary>
    public int Length { get; }
    public long Predictions => (long)Length * Streams;

    public int Segments(int bptt) => (Length + bptt - 1) / bptt;

    /// <summary>Inputs and targets of segment <paramref name="segment"/>, time-major (row t·B + b); returns its steps.</summary>
    public int Segment(int segment, int bptt, int[] inputs, int[] targets)
    {
        int start = segment * bptt;
        int t = Math.Min(bptt, Length - start);
        for (int s = 0; s < t; s++)
            for (int b = 0; b < Streams; b++)
            {
                int i = b * Length + start + s;
                inputs[s * Streams + b] = tokens[i];
                targets[s * Streams + b] = tokens[i + 1];
            }
        return t;
    }

    /// <summary>Stream b's inputs (tokens [b·Length, (b+1)·Length)) and targets (shifted by one).</summary>
    public (ArraySegment<int> Inputs, ArraySegment<int> Targets) Stream(int b) =>
        (new ArraySegment<int>(tokens, b * Length, Length), new ArraySegment<int>(tokens, b * Length + 1, Length));
}
