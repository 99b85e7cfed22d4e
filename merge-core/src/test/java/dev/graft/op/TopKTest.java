package dev.graft.op;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The top-k selection by magnitude ({@link FusedKernels#topK}: one or two histogram passes over the keys' bits and a
 * tie scan in one block) gives the exact answer of a full sort, ties ranked by position (a later entry first), on tensors
 * cut into several blocks, with long runs of ties, equal values and selections at the ends.
 */
class TopKTest {
  /** The top k of |x - b| by a full sort of (key, position), later positions first among equal keys. */
  private static FusedKernels.TopK sorted(float[] x, float[] b, long k) {
    long[] order = new long[x.length];
    for (int i = 0; i < x.length; i++) {
      order[i] = (long) MagnitudeRank.key(b == null ? x[i] : x[i] - b[i]) << 32 | i;
    }
    Arrays.sort(order);
    long kth = order[x.length - (int) k];
    return new FusedKernels.TopK((int) (kth >>> 32), (int) kth);
  }

  private static float bf16(double v) {
    return dev.graft.io.DTypeCodec.roundTo((float) v, dev.graft.tensor.DType.BF16);
  }

  private static void check(String what, float[] x, float[] b, long... ks) {
    FusedKernels.TopK[] got = FusedKernels.topK(x, b, ks);
    for (int q = 0; q < ks.length; q++) {
      assertThat(got[q]).as("%s, k = %d", what, ks[q]).isEqualTo(sorted(x, b, ks[q]));
    }
  }

  @Test
  void histogramSelectionAgreesWithASort() {
    SplittableRandom r = new SplittableRandom(5);
    int n = 300_001;
    float[] b = new float[n];
    float[] gauss = new float[n];
    float[] coarse = new float[n]; // few distinct values: long runs of ties around every threshold
    float[] sparse = new float[n]; // 90% of entries equal to the base
    for (int i = 0; i < n; i++) {
      b[i] = (float) r.nextGaussian();
      gauss[i] = b[i] + (float) (0.01 * r.nextGaussian());
      coarse[i] = Math.round(r.nextGaussian() * 4) / 4f;
      sparse[i] = r.nextInt(10) == 0 ? b[i] + (float) r.nextGaussian() : b[i];
    }
    float[] equal = new float[n];
    Arrays.fill(equal, 0.5f);
    for (long k : new long[] {1, 2, 17, n / 100, n / 2, n - 3000, n - 1}) {
      check("gaussian task vector", gauss, b, k);
      check("coarse values", coarse, null, k);
      check("sparse task vector", sparse, b, k);
      check("equal values", equal, null, k);
    }
    // differences of bf16 values: most keys have a zero lower half (their k-th largest is found without the second
    // pass) and some, where the base is much smaller than the delta, do not (a k-th largest among them needs it)
    float[] bb = new float[n];
    float[] bf = new float[n];
    for (int i = 0; i < n; i++) {
      bb[i] = bf16(0.02 * r.nextGaussian());
      bf[i] = r.nextInt(4) == 0 ? bb[i] : bf16(bb[i] + 0.002 * r.nextGaussian());
    }
    for (long k = 1; k < n; k += n / 97) {
      check("bf16 task vector", bf, bb, k);
    }
    check("bf16 task vector, two at once", bf, bb, n / 2 + n / 100, n / 100);
    check("two at once (breadcrumbs' band)", gauss, b, n / 2 + n / 100, n / 100);
    check("two at once, coarse", coarse, null, n / 3, n / 5);
  }

  @Test
  void membershipByThresholdsMatchesTheDefinitionAcrossTieBoundaries() {
    SplittableRandom r = new SplittableRandom(8);
    int n = 20_000;
    float[] b = new float[n];
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      b[i] = r.nextInt(3) / 8f;
      x[i] = b[i] + (r.nextInt(9) - 4) / 4f; // nine distinct deltas: thousands of ties at every threshold
    }
    FusedKernels.TopK[] sets = FusedKernels.topK(x, b, new long[] {n / 2, n / 3, n / 10, 1});
    List<FusedKernels.TopK> all = new java.util.ArrayList<>(List.of(sets));
    all.add(FusedKernels.TopK.NONE);
    all.add(FusedKernels.TopK.ALL);
    float[] v = new float[4096];
    for (FusedKernels.TopK up : all) {
      for (FusedKernels.TopK low : all) {
        for (int c0 = 0; c0 < n; c0 += 4096) {
          int len = Math.min(4096, n - c0);
          FusedKernels.inSet(x, b, c0, len, up, low, v);
          for (int j = 0; j < len; j++) {
            int e = c0 + j;
            float d = x[e] - b[e];
            int k = MagnitudeRank.key(d);
            boolean in = up.contains(k, e) && !low.contains(k, e);
            assertThat(Float.floatToIntBits(v[j])).as("%s minus %s at %d", up, low, e).isEqualTo(Float.floatToIntBits(d * (in ? 1 : 0)));
          }
          FusedKernels.inSet(x, b, c0, len, up, null, v);
          for (int j = 0; j < len; j++) {
            int e = c0 + j;
            float d = x[e] - b[e];
            assertThat(Float.floatToIntBits(v[j])).isEqualTo(Float.floatToIntBits(d * (up.contains(MagnitudeRank.key(d), e) ? 1 : 0)));
          }
        }
      }
    }
  }

  @Test
  void aTinyTensor() {
    float[] x = {3, -1, 2, -3, 0, 3};
    check("six entries", x, null, 1, 2, 3, 5);
  }
}
