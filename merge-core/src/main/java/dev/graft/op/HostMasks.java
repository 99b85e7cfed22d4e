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
   * digit radix sort of the magnitudes' bits (11, 11 and 9 bits), linear in the row length.
   */
  static int[] ascendingByMagnitude(float[] v, int off, int cols, Radix w) {
    int[] key = w.key;
    int[] ord = w.ord;
    int[] k2 = w.key2;
    int[] o2 = w.ord2;
    for (int j = 0; j < cols; j++) {
      key[j] = MagnitudeRank.key(v[off + j]);
      ord[j] = j;
    }
    for (int shift = 0; shift < 31; shift += 11) {
      int digits = shift == 22 ? 1 << 9 : 1 << 11;
      int mask = digits - 1;
      int[] count = w.count;
      java.util.Arrays.fill(count, 0, digits + 1, 0);
      for (int j = 0; j < cols; j++) {
        count[((key[j] >>> shift) & mask) + 1]++;
      }
      for (int d = 0; d < digits; d++) {
        count[d + 1] += count[d];
      }
      for (int j = 0; j < cols; j++) {
        int pos = count[(key[j] >>> shift) & mask]++;
        k2[pos] = key[j];
        o2[pos] = ord[j];
      }
      int[] t = key;
      key = k2;
      k2 = t;
      t = ord;
      ord = o2;
      o2 = t;
    }
    return java.util.Arrays.copyOf(ord, cols);
  }

  /** Work arrays of the radix sort for rows of up to {@code cols} entries. */
  static final class Radix {
    final int[] key;
    final int[] ord;
    final int[] key2;
    final int[] ord2;
    final int[] count = new int[(1 << 11) + 1];

    Radix(int cols) {
      key = new int[cols];
      ord = new int[cols];
      key2 = new int[cols];
      ord2 = new int[cols];
    }
  }

  /**
   * A mask keeping, in every row, the entries of ascending magnitude rank in [bottom, cols - top), where
   * {@code bottom} and {@code top} come from {@code band} for the row length.
   */
  static float[] rowBand(float[] v, int cols, java.util.function.IntFunction<int[]> band) {
    float[] mask = dev.graft.internal.FloatArrays.take(v.length);
    java.util.Arrays.fill(mask, 0f);
    int[] b = band.apply(cols);
    forRows(v.length, cols, (scratch, off) -> {
      int[] order = ascendingByMagnitude(v, off, cols, scratch);
      for (int r = b[0]; r < cols - b[1]; r++) {
        mask[off + order[r]] = 1f;
      }
    });
    return mask;
  }

  /**
   * DELLA (MAGPRUNE): per row, keep probability rises linearly with the magnitude rank from {@code d - eps} (smallest)
   * to {@code d + eps} (largest). Returns the mask in {@code [0]} and the keep probabilities in {@code [1]}.
   */
  static float[][] della(float[] v, int cols, double density, double eps, long seed) {
    float[] mask = dev.graft.internal.FloatArrays.take(v.length); // every entry written below
    float[] prob = dev.graft.internal.FloatArrays.take(v.length);
    forRows(v.length, cols, (scratch, off) -> {
      int[] order = ascendingByMagnitude(v, off, cols, scratch);
      for (int r = 0; r < cols; r++) {
        double p = cols == 1 ? density : (density - eps) + 2 * eps * r / (cols - 1);
        int idx = off + order[r];
        prob[idx] = (float) p;
        mask[idx] = SeededMasks.uniform(seed, idx) < p ? 1f : 0f;
      }
    });
    return new float[][] {mask, prob};
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
