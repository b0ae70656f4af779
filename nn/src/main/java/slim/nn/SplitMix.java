package slim.nn;

/**
 * SplitMix64 (Steele, Lea and Flood, 2014; the generator behind java.util.SplittableRandom): well-mixed
 * seeds derived from a base seed and a counter, so that consecutive counters (epochs, dropout calls)
 * give unrelated streams.
 */
public final class SplitMix {
    private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

    private SplitMix() {}

    /** The n-th output of SplitMix64 seeded with seed: its finaliser applied to seed + n·γ. */
    public static long nth(long seed, long n) {
        long z = seed + GOLDEN_GAMMA * n;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
