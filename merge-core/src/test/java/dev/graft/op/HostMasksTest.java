package dev.graft.op;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The row sort behind row-wise bands and DELLA's ranks, against a comparison sort of (|v|'s bits, column). */
class HostMasksTest {
  private static int[] expected(float[] x, float[] b, int off, int cols) {
    return IntStream.range(0, cols).boxed()
        .sorted(Comparator.<Integer>comparingInt(j -> MagnitudeRank.key(b == null ? x[off + j] : x[off + j] - b[off + j]))
            .thenComparingInt(j -> j))
        .mapToInt(Integer::intValue).toArray();
  }

  private static void check(float[] x, float[] b, int cols) {
    HostMasks.RowSort w = new HostMasks.RowSort(cols);
    for (int off = 0; off + cols <= x.length; off += cols) {
      int[] got = HostMasks.ascendingByMagnitude(x, b, off, cols, w);
      assertThat(Arrays.copyOf(got, cols)).as("row at %d of %d columns", off, cols).containsExactly(expected(x, b, off, cols));
    }
  }

  private static float bf16(double v) {
    return dev.graft.io.DTypeCodec.roundTo((float) v, dev.graft.tensor.DType.BF16);
  }

  @Test
  void bf16RowsTakeTheBucketSort() {
    // differences of bf16 weights: keys ending in 16 zero bits, many ties, unchanged entries
    Random r = new Random(11);
    for (int cols : new int[] {1, 2, 5, 64, 1000, 4096}) {
      float[] b = new float[3 * cols];
      float[] x = new float[3 * cols];
      for (int i = 0; i < x.length; i++) {
        b[i] = bf16(r.nextGaussian() * 0.02);
        x[i] = r.nextDouble() < 0.3 ? b[i] : bf16(b[i] + r.nextGaussian() * 0.002);
      }
      check(x, b, cols);
      check(x, null, cols);
    }
  }

  @Test
  void gaussianRowsWithUnchangedEntriesAndTies() {
    Random r = new Random(7);
    for (int cols : new int[] {1, 2, 3, 17, 1000, 4096}) {
      float[] b = new float[3 * cols];
      float[] x = new float[3 * cols];
      for (int i = 0; i < x.length; i++) {
        b[i] = (float) r.nextGaussian() * 0.02f;
        double u = r.nextDouble();
        // unchanged entries (δ = 0), exact ties of magnitude with either sign, and ordinary deltas
        x[i] = u < 0.3 ? b[i] : u < 0.4 ? b[i] + (r.nextBoolean() ? 0.001f : -0.001f) : b[i] + (float) r.nextGaussian() * 1e-3f;
      }
      check(x, b, cols);
      check(x, null, cols);
    }
  }

  @Test
  void specialValuesAndDegenerateRows() {
    float[] special = {Float.NaN, -0f, 0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MAX_VALUE,
        Float.intBitsToFloat(0x7fc00001), 1f, -1f, 3e-39f, 0f};
    check(special, null, special.length);
    float[] quantised = {Float.NaN, -0f, 0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x00010000), 1f, -1f,
        -Float.intBitsToFloat(0x7F7F0000), 0f, 1f};
    check(quantised, null, quantised.length); // the bucket sort's path
    check(new float[64], null, 64); // every key zero
    float[] same = new float[50];
    Arrays.fill(same, -2.5f);
    check(same, null, 50); // one bucket, already in order
  }

  @Test
  void crowdedBucketsFallBackToAComparisonSort() {
    // bf16-like keys (the bucket sort's path): two outliers stretch the range so that 2^19 keys share a bucket; 3000
    // entries take 8 keys of one bucket in descending blocks, so the insertion sort gives up (more than 8 moves per
    // entry) and the row is sorted another way
    int cols = 3002;
    float[] x = new float[cols];
    x[0] = Float.intBitsToFloat(0x00080000);
    x[1] = Float.intBitsToFloat(0x7F7F0000);
    for (int j = 2; j < cols; j++) {
      x[j] = Float.intBitsToFloat(Float.floatToRawIntBits(1f) + ((7 - (j - 2) * 8 / (cols - 2)) << 16));
    }
    check(x, null, cols);
  }
}
