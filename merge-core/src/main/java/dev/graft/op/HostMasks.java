package dev.graft.op;

import dev.graft.tensor.spi.SeededMasks;
import java.util.Arrays;

/**
 * Row-wise selections computed on the host (per-row ranks are not part of the tensor layer): exact rank bands and
 * DELLA's rank-dependent keep probabilities. Rows are the last axis; a 1-D tensor is one row.
 */
final class HostMasks {
  private HostMasks() {}

  /** Entries sorted ascending by |v| within a row, ties broken by index: returns the column order. */
  static int[] ascendingByMagnitude(float[] v, int off, int cols, long[] scratch) {
    for (int j = 0; j < cols; j++) {
      int bits = Float.floatToIntBits(Math.abs(v[off + j]));
      scratch[j] = ((long) bits << 32) | j;
    }
    Arrays.sort(scratch, 0, cols);
    int[] order = new int[cols];
    for (int j = 0; j < cols; j++) {
      order[j] = (int) scratch[j];
    }
    return order;
  }

  /**
   * A mask keeping, in every row, the entries of ascending magnitude rank in [bottom, cols - top), where
   * {@code bottom} and {@code top} come from {@code band} for the row length.
   */
  static float[] rowBand(float[] v, int cols, java.util.function.IntFunction<int[]> band) {
    float[] mask = new float[v.length];
    long[] scratch = new long[cols];
    int[] b = band.apply(cols);
    for (int off = 0; off < v.length; off += cols) {
      int[] order = ascendingByMagnitude(v, off, cols, scratch);
      for (int r = b[0]; r < cols - b[1]; r++) {
        mask[off + order[r]] = 1f;
      }
    }
    return mask;
  }

  /**
   * DELLA (MAGPRUNE): per row, keep probability rises linearly with the magnitude rank from {@code d - eps} (smallest)
   * to {@code d + eps} (largest). Returns the mask in {@code [0]} and the keep probabilities in {@code [1]}.
   */
  static float[][] della(float[] v, int cols, double density, double eps, long seed) {
    float[] mask = new float[v.length];
    float[] prob = new float[v.length];
    long[] scratch = new long[cols];
    for (int off = 0; off < v.length; off += cols) {
      int[] order = ascendingByMagnitude(v, off, cols, scratch);
      for (int r = 0; r < cols; r++) {
        double p = cols == 1 ? density : (density - eps) + 2 * eps * r / (cols - 1);
        int idx = off + order[r];
        prob[idx] = (float) p;
        mask[idx] = SeededMasks.uniform(seed, idx) < p ? 1f : 0f;
      }
    }
    return new float[][] {mask, prob};
  }
}
