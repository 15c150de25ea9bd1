using Qnn.Trainer.Backends;

namespace Qnn.Trainer.Training;

/// <summary>
/// Data augmentation by random translation: every training image of a batch is moved by (dy, dx), each drawn
/// uniformly from [−shift, shift], and the pixels moved in are 0 (the background of MNIST-like data). The offsets are
/// a function of (run seed, step, position in the batch) only, like the dropout masks, so a resumed run draws the same
/// ones. Validation and test images are never moved.
/// </summary>
public static class ShiftAugmentation
{
    /// <summary>The "layer" number mixed into the seed: apart from every dropout layer's index.</summary>
    private const int Stream = 0xA06;

    /// <summary>The offsets (dy, dx) of sample <paramref name="position"/> of step <paramref name="step"/>.</summary>
    public static (int Dy, int Dx) Offsets(int runSeed, long step, int position, int shift)
    {
        ulong seed = DropoutMask.Seed(runSeed, Stream, step);
        int span = 2 * shift + 1;
        int dy = Math.Min(span - 1, (int)(DropoutMask.Uniform(seed, 2 * position) * span)) - shift;
        int dx = Math.Min(span - 1, (int)(DropoutMask.Uniform(seed, 2 * position + 1) * span)) - shift;
        return (dy, dx);
    }

    /// <summary>
    /// Writes samples <paramref name="indices"/> of <paramref name="pixels"/> (HWC images of
    /// <paramref name="height"/> × <paramref name="width"/> × <paramref name="channels"/> bytes), each translated, one
    /// after the other into <paramref name="dest"/>.
    /// </summary>
    public static void Apply(byte[] pixels, ReadOnlySpan<int> indices, int height, int width, int channels, int shift,
        int runSeed, long step, Span<byte> dest)
    {
        int size = height * width * channels, row = width * channels;
        for (int b = 0; b < indices.Length; b++)
        {
            var src = pixels.AsSpan(indices[b] * size, size);
            var dst = dest.Slice(b * size, size);
            var (dy, dx) = Offsets(runSeed, step, b, shift);
            dst.Clear();
            int x0 = Math.Max(0, dx), x1 = Math.Min(width, width + dx);
            if (x1 <= x0) continue;
            for (int y = Math.Max(0, dy); y < Math.Min(height, height + dy); y++)
                src.Slice((y - dy) * row + (x0 - dx) * channels, (x1 - x0) * channels).CopyTo(dst.Slice(y * row + x0 * channels));
        }
    }
}
