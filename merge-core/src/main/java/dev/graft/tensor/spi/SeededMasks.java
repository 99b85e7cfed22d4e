package dev.graft.tensor.spi;

/** Deterministic random draws keyed by (seed, index), identical on every backend and thread count. */
public final class SeededMasks {
  private SeededMasks() {}

  /** SplitMix64 finaliser of {@code seed + (index + 1) * golden gamma}. */
  public static long mix(long seed, long index) {
    long z = seed + (index + 1) * 0x9E3779B97F4A7C15L;
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /** A uniform double in [0, 1) for (seed, index). */
  public static double uniform(long seed, long index) {
    return (mix(seed, index) >>> 11) * 0x1.0p-53;
  }

  /**
   * The integer threshold of a keep probability: {@code uniform(seed, i) < p} exactly when {@link #keep}{@code (seed,
   * i, limit(p))} is 1, since {@code uniform = (mix >>> 11) · 2^-53} and {@code p · 2^53} is exact.
   */
  public static long limit(double p) {
    return (long) Math.ceil(p * 0x1.0p53);
  }

  /** 1 when {@code uniform(seed, index) < p} for {@code limit = limit(p)}, else 0: an integer test without a branch. */
  public static int keep(long seed, long index, long limit) {
    return (int) (((mix(seed, index) >>> 11) - limit) >>> 63);
  }

  /** A mask with 1 where {@code uniform(seed, i) < p}. */
  public static float[] bernoulli(int n, double p, long seed) {
    if (!(p >= 0 && p <= 1)) {
      throw new IllegalArgumentException("Bernoulli probability must be in [0, 1], found " + p);
    }
    float[] m = new float[n];
    for (int i = 0; i < n; i++) {
      m[i] = uniform(seed, i) < p ? 1f : 0f;
    }
    return m;
  }
}
