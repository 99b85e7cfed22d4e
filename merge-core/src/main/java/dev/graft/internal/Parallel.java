package dev.graft.internal;

import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/** Block-parallel loops over index ranges, with results combined in a fixed order (deterministic). */
public final class Parallel {
  /** Below this many elements a loop runs on the calling thread. */
  public static final int GRAIN = 1 << 16;

  private Parallel() {}

  public interface RangeBody {
    void run(int from, int to);
  }

  public interface RangeSum {
    double sum(int from, int to);
  }

  private static int blocks(int n) {
    return n < GRAIN ? 1 : Math.min((n + GRAIN - 1) / GRAIN, ForkJoinPool.getCommonPoolParallelism() * 4 + 1);
  }

  /** Runs {@code body} over [0, n) in blocks, in parallel when large. */
  public static void forRange(int n, RangeBody body) {
    int b = blocks(n);
    if (b == 1) {
      body.run(0, n);
      return;
    }
    IntStream.range(0, b).parallel().forEach(i -> body.run((int) ((long) n * i / b), (int) ((long) n * (i + 1) / b)));
  }

  /** Sums per-block partial sums, in block order (so the result does not depend on scheduling). */
  public static double sum(int n, RangeSum body) {
    int b = blocks(n);
    if (b == 1) {
      return body.sum(0, n);
    }
    double[] parts = new double[b];
    IntStream.range(0, b).parallel().forEach(i -> parts[i] = body.sum((int) ((long) n * i / b), (int) ((long) n * (i + 1) / b)));
    double s = 0;
    for (double p : parts) {
      s += p;
    }
    return s;
  }
}
