using Qnn.Trainer.Training;

namespace Qnn.Trainer.Tests;

/// <summary>The random translation of training images: where every pixel goes, what fills in, which offsets are drawn.</summary>
public class AugmentationTests
{
    [Fact]
    public void Every_pixel_moves_by_the_drawn_offsets_and_zeros_fill_in()
    {
        const int h = 7, w = 5, c = 2, shift = 3, batch = 40;
        var rng = new Random(5);
        var pixels = new byte[batch * h * w * c];
        rng.NextBytes(pixels);
        var indices = Enumerable.Range(0, batch).Reverse().ToArray();
        var dest = new byte[pixels.Length];
        ShiftAugmentation.Apply(pixels, indices, h, w, c, shift, runSeed: 9, step: 123, dest);
        for (int b = 0; b < batch; b++)
        {
            var (dy, dx) = ShiftAugmentation.Offsets(9, 123, b, shift);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    for (int ch = 0; ch < c; ch++)
                    {
                        int sy = y - dy, sx = x - dx;
                        byte expected = sy is >= 0 and < h && sx is >= 0 and < w ? pixels[((indices[b] * h + sy) * w + sx) * c + ch] : (byte)0;
                        Assert.Equal(expected, dest[((b * h + y) * w + x) * c + ch]);
                    }
        }
    }

    [Fact]
    public void Offsets_cover_the_range_evenly_and_depend_only_on_seed_step_and_position()
    {
        const int shift = 2;
        var counts = new int[2 * shift + 1, 2 * shift + 1];
        for (long step = 0; step < 200; step++)
            for (int b = 0; b < 100; b++)
            {
                var (dy, dx) = ShiftAugmentation.Offsets(1, step, b, shift);
                Assert.InRange(dy, -shift, shift);
                Assert.InRange(dx, -shift, shift);
                Assert.Equal((dy, dx), ShiftAugmentation.Offsets(1, step, b, shift));
                counts[dy + shift, dx + shift]++;
            }
        // 20,000 draws over 25 cells: 800 expected in each; a fair generator stays well within ±20 %.
        foreach (int n in counts) Assert.InRange(n, 640, 960);
        Assert.NotEqual(Enumerable.Range(0, 50).Select(b => ShiftAugmentation.Offsets(1, 7, b, shift)),
            Enumerable.Range(0, 50).Select(b => ShiftAugmentation.Offsets(2, 7, b, shift)));
    }

    [Fact]
    public void A_shift_as_large_as_the_image_is_refused()
    {
        var data = TestData.Mnist;
        var e = Assert.Throws<ArgumentException>(() => new Training.TrainingLoop(new TrainOptions { Shift = 28, TrainLimit = 200, Validation = 100 }, data.Train));
        Assert.Contains("shift", e.Message);
    }
}
