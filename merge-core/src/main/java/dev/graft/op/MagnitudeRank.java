package dev.graft.op;

/**
 * Ranking entries by magnitude without sorting, shared by the per-tensor top-k of the fused kernels and the
 * whole-model threshold of {@code trim_scope: model}: an entry's key is the bits of its |value| (ordered as |value|
 * is, NaNs above infinity, among themselves by payload); histograms of the keys' digits find the k-th largest key;
 * ties at it are ranked by position, a later entry higher (as {@link HostMasks#rowBand} ranks them).
 */
public final class MagnitudeRank {
  private MagnitudeRank() {}

  /**
   * The magnitude key of a value: the bits of |v|. NaNs are not made canonical (that branch kept the JIT from
   * vectorising the loops that compute keys: TIES 117 → 95 ms per 4096² call); they rank above infinity either way.
   */
  public static int key(float v) {
    return Float.floatToRawIntBits(v) & 0x7fffffff;
  }

  /**
   * Walks a histogram of key digits from the top down to the bucket holding the k-th largest entry (k counted from
   * 1, {@code above[0]} entries already above this histogram's range); returns the bucket and adds to
   * {@code above[0]} the entries in the buckets above it.
   */
  public static int descend(long[] histogram, long k, long[] above) {
    int bucket = histogram.length - 1;
    while (above[0] + histogram[bucket] < k) {
      above[0] += histogram[bucket--];
    }
    return bucket;
  }

  /**
   * Scans {@code x - b} (or {@code x} when {@code b} is null) from {@code hi - 1} down to {@code lo} for entries with
   * key {@code key}, counting {@code need[0]} down; returns the position of the last one counted (the first tie kept
   * in this range), or {@code hi} when none was.
   */
  public static int lastTies(float[] x, float[] b, int lo, int hi, int key, long[] need) {
    int from = hi;
    for (int i = hi - 1; i >= lo && need[0] > 0; i--) {
      if (key(b == null ? x[i] : x[i] - b[i]) == key) {
        from = i;
        need[0]--;
      }
    }
    return from;
  }
}
