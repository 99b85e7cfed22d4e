package dev.graft.op;

import dev.graft.tensor.spi.SeededMasks;
import java.util.Arrays;

/**
 * Row-wise selections computed on the host (per-row ranks are not part of the tensor layer): exact rank bands and
 * DELLA's rank-dependent keep probabilities. Rows are the last axis; a 1-D tensor is one row.
 */
final class HostMasks {
  private HostMasks() {}

  /**
   * Entries sorted ascending by |v| within a row, ties broken by index: the column order. The order is {@code w}'s own
   * array, valid until the next row sorted with {@code w}. Sorts {@code key << 32 | column} ({@code key}: a float's
   * bits without the sign, ordered as the magnitudes) in one of two ways, whose results are the same:
   *
   * <ul>
   *   <li>Rows whose keys nearly all end in 16 zero bits (judged by the first 256 keys) go through a bucket sort.
   *       Differences of bf16 weights are like that, exact and with at most 8 significant bits unless one weight is
   *       much smaller than the other: few distinct keys, many ties. About one bucket per entry, spread evenly over
   *       the row's range of non-zero keys (zeros get a bucket of their own, so unchanged entries do not stretch the
   *       range), one counting pass, one stable scatter, and an insertion sort that has little left to do. When the
   *       data defeat that (more than 8 moves per entry) the rest is sorted by {@link Arrays#sort(long[], int, int)},
   *       so the worst case stays O(n log n). 4.2 against 7.2 ns per entry for the radix sort, rows of 4096.
   *   <li>Other rows (float32 data) go through a stable least-significant-digit radix sort of 11, 11 and 9 bits,
   *       linear in the row length: there the insertion sort's branch is a coin toss (11 against 5.1 ns per entry).
   * </ul>
   */
  static int[] ascendingByMagnitude(float[] v, int off, int cols, RowSort w) {
    return ascendingByMagnitude(v, null, off, cols, w);
  }

  /** {@link #ascendingByMagnitude(float[], int, int, RowSort)} of {@code x - b} ({@code x} when {@code b} is null). */
  static int[] ascendingByMagnitude(float[] x, float[] b, int off, int cols, RowSort w) {
    int[] k = w.keys;
    if (b == null) {
      for (int j = 0; j < cols; j++) {
        k[j] = MagnitudeRank.key(x[off + j]);
      }
    } else {
      for (int j = 0; j < cols; j++) {
        k[j] = MagnitudeRank.key(x[off + j] - b[off + j]);
      }
    }
    // the row's first keys choose the sort: keys finer than bf16's precision in more than an eighth of them
    int sample = Math.min(cols, 256);
    int fine = 0;
    for (int j = 0; j < sample; j++) {
      fine += ((k[j] & 0xFFFF) + 0xFFFF) >>> 16;
    }
    long[] a = fine <= sample / 8 ? bucketSort(k, cols, w) : radixSort(k, cols, w);
    int[] ord = w.ord;
    for (int j = 0; j < cols; j++) {
      ord[j] = (int) a[j];
    }
    return ord;
  }

  /** The bucket sort of the row's keys {@code k} (see {@link #ascendingByMagnitude(float[], int, int, RowSort)}). */
  private static long[] bucketSort(int[] k, int cols, RowSort w) {
    int lo = Integer.MAX_VALUE; // the smallest non-zero key
    int hi = 0;
    for (int j = 0; j < cols; j++) {
      int key = k[j];
      lo = Math.min(lo, key + (((key - 1) >> 31) & Integer.MAX_VALUE)); // a zero key counts as MAX_VALUE
      hi = Math.max(hi, key);
    }
    int buckets = w.buckets;
    int shift = 0;
    for (long range = (long) hi - lo; range >= 0 && range >>> shift >= buckets; ) {
      shift++;
    }
    int[] count = w.count;
    Arrays.fill(count, 0, buckets + 2, 0);
    for (int j = 0; j < cols; j++) {
      count[bucket(k[j], lo, shift) + 1]++;
    }
    for (int i = 0; i <= buckets; i++) {
      count[i + 1] += count[i];
    }
    long[] a = w.sorted;
    for (int j = 0; j < cols; j++) {
      a[count[bucket(k[j], lo, shift)]++] = (long) k[j] << 32 | j;
    }
    long moves = 0;
    long budget = 8L * cols;
    for (int i = 1; i < cols; i++) {
      long e = a[i];
      int p = i - 1;
      if (a[p] > e) {
        do {
          a[p + 1] = a[p];
          p--;
        } while (p >= 0 && a[p] > e);
        a[p + 1] = e;
        moves += i - 1 - p;
        if (moves > budget) {
          Arrays.sort(a, 0, cols); // the keys are distinct longs: the same order as a stable sort
          break;
        }
      }
    }
    return a;
  }

  /** The bucket of a key: 0 for a zero key, {@code 1 + ((key - lo) >>> shift)} otherwise (branch-free). */
  private static int bucket(int key, int lo, int shift) {
    return ((-key) >>> 31) * (1 + ((key - lo) >>> shift));
  }

  /** The radix sort of the row's keys {@code k} (see {@link #ascendingByMagnitude(float[], int, int, RowSort)}). */
  private static long[] radixSort(int[] k, int cols, RowSort w) {
    long[] a = w.sorted;
    long[] t = w.draws; // free until DELLA draws into it, after the sort
    for (int j = 0; j < cols; j++) {
      a[j] = (long) k[j] << 32 | j;
    }
    int[] count = w.count;
    for (int shift = 32; shift < 63; shift += 11) {
      int digits = shift == 54 ? 1 << 9 : 1 << 11;
      int mask = digits - 1;
      Arrays.fill(count, 0, digits + 1, 0);
      for (int j = 0; j < cols; j++) {
        count[((int) (a[j] >>> shift) & mask) + 1]++;
      }
      for (int d = 0; d < digits; d++) {
        count[d + 1] += count[d];
      }
      for (int j = 0; j < cols; j++) {
        long e = a[j];
        t[count[(int) (e >>> shift) & mask]++] = e;
      }
      long[] swap = a;
      a = t;
      t = swap;
    }
    return a;
  }

  /** Work arrays of {@link #ascendingByMagnitude} for rows of up to {@code cols} entries. */
  static final class RowSort {
    final int[] keys;
    final long[] sorted;
    final long[] draws; // DELLA's draws, in column order
    final int[] ord;
    final int buckets;
    final int[] count;

    RowSort(int cols) {
      keys = new int[cols];
      sorted = new long[cols];
      draws = new long[cols];
      ord = new int[cols];
      buckets = Math.max(1, Integer.highestOneBit(Math.max(1, cols - 1)) << 1); // a power of two, at least cols
      count = new int[Math.max(buckets + 2, (1 << 11) + 1)]; // bucket sort, or the radix sort's digits
    }
  }

  /**
   * A mask keeping, in every row, the entries of ascending magnitude rank in [bottom, cols - top), where
   * {@code bottom} and {@code top} come from {@code band} for the row length.
   */
  static float[] rowBand(float[] v, int cols, java.util.function.IntFunction<int[]> band) {
    float[] mask = dev.graft.internal.FloatArrays.take(v.length); // every entry written below
    int[] b = band.apply(cols);
    forRows(v.length, cols, (scratch, off) -> rowBand(v, null, off, cols, b, scratch, mask));
    return mask;
  }

  /**
   * One row of {@link #rowBand}: the row of {@code x - b} ({@code x} when {@code b} is null) at {@code off}, its mask
   * (every entry of the row written) at the same offset of {@code mask}.
   */
  static void rowBand(float[] x, float[] b, int off, int cols, int[] band, RowSort w, float[] mask) {
    int[] order = ascendingByMagnitude(x, b, off, cols, w);
    java.util.Arrays.fill(mask, off, off + cols, 0f);
    for (int r = band[0]; r < cols - band[1]; r++) {
      mask[off + order[r]] = 1f;
    }
  }

  /**
   * DELLA (MAGPRUNE): per row, keep probability rises linearly with the magnitude rank from {@code d - eps} (smallest)
   * to {@code d + eps} (largest). Returns the mask in {@code [0]} and the keep probabilities in {@code [1]}.
   */
  static float[][] della(float[] v, int cols, double density, double eps, long seed) {
    float[] mask = dev.graft.internal.FloatArrays.take(v.length); // every entry written below
    float[] prob = dev.graft.internal.FloatArrays.take(v.length);
    Keep keep = new Keep(cols, density, eps);
    forRows(v.length, cols, (scratch, off) -> {
      dellaRow(v, null, off, cols, keep, seed, 0, scratch, mask, false);
      int[] order = scratch.ord; // the row's order, left by dellaRow's sort
      for (int r = 0; r < cols; r++) {
        prob[off + order[r]] = keep.p[r];
      }
    });
    return new float[][] {mask, prob};
  }

  /**
   * {@link #della} of {@code x - b} in one array of divisors: the keep probability where an entry is kept, +∞ where it
   * is dropped. For every δ, {@code δ / q} has the bits of {@code (δ · mask) / p} (a dropped entry gives ±0 with δ's
   * sign, or NaN for NaN and ±∞, either way), so inverse-density rescaling reads one array instead of two, and the task
   * vector is never stored.
   */
  static float[] dellaDivisors(float[] x, float[] b, int cols, double density, double eps, long seed) {
    float[] q = dev.graft.internal.FloatArrays.take(x.length); // every entry written below
    Keep keep = new Keep(cols, density, eps);
    forRows(x.length, cols, (scratch, off) -> dellaRow(x, b, off, cols, keep, seed, 0, scratch, q, true));
    return q;
  }

  /**
   * One row of DELLA's draw for the row of {@code x - b} at {@code off}, whose entries have positions {@code off +
   * shift + column} in the tensor (the index of their hashes): into {@code out} at the same offset, the divisors of
   * {@link #dellaDivisors} when {@code divisors}, else the 0/1 mask.
   */
  static void dellaRow(float[] x, float[] b, int off, int cols, Keep keep, long seed, long shift, RowSort w, float[] out, boolean divisors) {
    int[] order = ascendingByMagnitude(x, b, off, cols, w);
    // The draws in column order first (a loop C2 vectorises); then the rank-order pass without a branch on the draw:
    // a kept/dropped branch is a coin toss the CPU mispredicts half the time, and it cost more than the sort.
    long[] draw = w.draws;
    long first = off + shift;
    for (int j = 0; j < cols; j++) {
      draw[j] = SeededMasks.mix(seed, first + j) >>> 11;
    }
    long[] limit = keep.limit;
    if (divisors) {
      int[] pBits = keep.pBits;
      for (int r = 0; r < cols; r++) {
        int c = order[r];
        int keptMask = (int) ((draw[c] - limit[r]) >> 63); // all ones where kept (draw < limit), else 0
        out[off + c] = Float.intBitsToFloat(INF_BITS ^ ((pBits[r] ^ INF_BITS) & keptMask));
      }
    } else {
      for (int r = 0; r < cols; r++) {
        int c = order[r];
        out[off + c] = (int) ((draw[c] - limit[r]) >>> 63);
      }
    }
  }

  private static final int INF_BITS = Float.floatToRawIntBits(Float.POSITIVE_INFINITY);

  /** Per rank, the same in every row: DELLA's keep probability and its integer threshold ({@link SeededMasks#limit}). */
  static final class Keep {
    final float[] p;
    final int[] pBits;
    final long[] limit;

    Keep(int cols, double density, double eps) {
      p = new float[cols];
      pBits = new int[cols];
      limit = new long[cols];
      for (int r = 0; r < cols; r++) {
        double pr = cols == 1 ? density : (density - eps) + 2 * eps * r / (cols - 1);
        p[r] = (float) pr;
        pBits[r] = Float.floatToRawIntBits(p[r]);
        limit[r] = SeededMasks.limit(pr);
      }
    }
  }

  interface Row {
    void run(RowSort scratch, int offset);
  }

  /** Runs {@code body} for every row (rows write disjoint entries), in parallel blocks of rows, each with its own scratch. */
  private static void forRows(int n, int cols, Row body) {
    int rows = cols == 0 ? 0 : n / cols;
    int blocks = Math.max(1, Math.min(rows, dev.graft.internal.Parallel.blocks(n)));
    dev.graft.internal.Parallel.forBlocks(rows, blocks, (bl, lo, hi) -> {
      RowSort scratch = new RowSort(cols);
      for (int row = lo; row < hi; row++) {
        body.run(scratch, row * cols);
      }
    });
  }
}
