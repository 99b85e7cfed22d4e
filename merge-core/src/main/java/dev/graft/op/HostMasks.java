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
   * Entries sorted ascending by |v| within a row, ties broken by index: the column order, by a stable least-significant
   * digit radix sort of the magnitudes' bits (11, 11 and 9 bits), linear in the row length. Each entry travels as one
   * long, its key above its column ({@code key << 32 | column}), so a pass moves one value per entry. The order is
   * {@code w}'s own array: valid until the next row sorted with {@code w}.
   */
  static int[] ascendingByMagnitude(float[] v, int off, int cols, Radix w) {
    return ascendingByMagnitude(v, null, off, cols, w);
  }

  /** {@link #ascendingByMagnitude(float[], int, int, Radix)} of {@code x - b} ({@code x} when {@code b} is null). */
  static int[] ascendingByMagnitude(float[] x, float[] b, int off, int cols, Radix w) {
    long[] a = w.a;
    long[] t = w.b;
    if (b == null) {
      for (int j = 0; j < cols; j++) {
        a[j] = (long) MagnitudeRank.key(x[off + j]) << 32 | j;
      }
    } else {
      for (int j = 0; j < cols; j++) {
        a[j] = (long) MagnitudeRank.key(x[off + j] - b[off + j]) << 32 | j;
      }
    }
    int[] count = w.count;
    for (int shift = 32; shift < 63; shift += 11) {
      int digits = shift == 54 ? 1 << 9 : 1 << 11;
      int mask = digits - 1;
      java.util.Arrays.fill(count, 0, digits + 1, 0);
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
    int[] ord = w.ord;
    for (int j = 0; j < cols; j++) {
      ord[j] = (int) a[j];
    }
    return ord;
  }

  /** Work arrays of the radix sort for rows of up to {@code cols} entries. */
  static final class Radix {
    final long[] a;
    final long[] b;
    final int[] ord;
    final int[] count = new int[(1 << 11) + 1];

    Radix(int cols) {
      a = new long[cols];
      b = new long[cols];
      ord = new int[cols];
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
  static void rowBand(float[] x, float[] b, int off, int cols, int[] band, Radix w, float[] mask) {
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
      int[] order = ascendingByMagnitude(v, off, cols, scratch);
      for (int r = 0; r < cols; r++) {
        int idx = off + order[r];
        prob[idx] = keep.p[r];
        mask[idx] = SeededMasks.keep(seed, idx, keep.limit[r]);
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
  static void dellaRow(float[] x, float[] b, int off, int cols, Keep keep, long seed, long shift, Radix w, float[] out, boolean divisors) {
    int[] order = ascendingByMagnitude(x, b, off, cols, w);
    // The draws in column order first (a loop C2 vectorises), into the sort's work array, free again; then the
    // rank-order pass without a branch on the draw: a kept/dropped branch is a coin toss the CPU mispredicts half
    // the time, and it cost more than the sort.
    long[] draw = w.a;
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
    void run(Radix scratch, int offset);
  }

  /** Runs {@code body} for every row (rows write disjoint entries), in parallel blocks of rows, each with its own scratch. */
  private static void forRows(int n, int cols, Row body) {
    int rows = cols == 0 ? 0 : n / cols;
    int blocks = Math.max(1, Math.min(rows, dev.graft.internal.Parallel.blocks(n)));
    dev.graft.internal.Parallel.forBlocks(rows, blocks, (bl, lo, hi) -> {
      Radix scratch = new Radix(cols);
      for (int row = lo; row < hi; row++) {
        body.run(scratch, row * cols);
      }
    });
  }
}
