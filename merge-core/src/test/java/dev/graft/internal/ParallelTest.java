package dev.graft.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Sums do not depend on whether the blocks run in parallel or one after the other (graft.threads=1). */
class ParallelTest {
  @Test
  void sequentialBlocksGiveTheSameBitsAsParallelOnes() {
    int n = 1_000_003;
    float[] x = new float[n];
    SplittableRandom r = new SplittableRandom(3);
    for (int i = 0; i < n; i++) {
      x[i] = (float) (r.nextGaussian() * Math.exp(r.nextGaussian() * 4));
    }
    Parallel.RangeSum body = (lo, hi) -> {
      double s = 0;
      for (int i = lo; i < hi; i++) {
        s += x[i];
      }
      return s;
    };
    assertThat(Parallel.blocks(n)).isGreaterThanOrEqualTo(1);
    boolean before = Parallel.sequential;
    try {
      Parallel.sequential = false;
      double parallel = Parallel.sum(n, body);
      Parallel.sequential = true;
      double sequential = Parallel.sum(n, body);
      assertThat(Double.doubleToRawLongBits(sequential)).isEqualTo(Double.doubleToRawLongBits(parallel));
      int[] owner = new int[n];
      Parallel.forBlocks(n, Parallel.blocks(n), (b, lo, hi) -> {
        for (int i = lo; i < hi; i++) {
          owner[i] = b + 1;
        }
      });
      assertThat(owner).doesNotContain(0); // every index visited
    } finally {
      Parallel.sequential = before;
    }
  }
}
