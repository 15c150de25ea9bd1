using System.Runtime.Intrinsics;

namespace Qnn.Trainer.Backends;

/// <summary>
/// A counter-based random mask: whether element i is kept depends only on (seed, i), never on a generator's
/// state, so every backend draws the same mask and a run resumed from a checkpoint draws the masks it would have.
/// </summary>
public static class DropoutMask
{
    /// <summary>True when element <paramref name="index"/> is kept at dropout <paramref name="rate"/>.</summary>
    public static bool Keep(ulong seed, int index, float rate) => Uniform(seed, index) >= rate;

    /// <summary>A uniform number in [0, 1) from (seed, index): SplitMix64's finalizer over their combination.</summary>
    public static float Uniform(ulong seed, int index)
    {
        ulong z = seed + 0x9E3779B97F4A7C15UL * (ulong)(uint)(index + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (z >> 40) * (1f / (1 << 24));
    }

    /// <summary>
    /// Element i is kept exactly when (the hash's top 24 bits) ≥ this: Uniform · 2^24 is that integer and rate · 2^24
    /// is exact, so the integer test is <see cref="Keep"/>'s float test.
    /// </summary>
    public static uint Threshold(float rate) => (uint)Math.Ceiling((double)rate * (1 << 24));

    /// <summary>The top 24 bits of <see cref="Uniform"/>'s hash for eight indices + 1 at once.</summary>
    public static Vector512<ulong> Bits(ulong seed, Vector512<ulong> indexPlusOne)
    {
        var z = Vector512.Create(seed) + Vector512.Create(0x9E3779B97F4A7C15UL) * indexPlusOne;
        z = (z ^ (z >>> 30)) * Vector512.Create(0xBF58476D1CE4E5B9UL);
        z = (z ^ (z >>> 27)) * Vector512.Create(0x94D049BB133111EBUL);
        z ^= z >>> 31;
        return z >>> 40;
    }

    /// <summary>A seed for one use (layer, step) of one run, mixed so nearby inputs give unrelated masks.</summary>
    public static ulong Seed(int runSeed, int layer, long step)
    {
        ulong z = ((ulong)(uint)runSeed << 32) ^ ((ulong)(uint)layer << 48) ^ (ulong)step;
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
