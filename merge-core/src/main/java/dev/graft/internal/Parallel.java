package dev.graft.internal;

import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/** Block-parallel loops over index ranges, with results combined in a fixed order (deterministic). */
public final class Parallel {
  /** Below this many elements a loop runs on the calling thread. */
  public static final int GRAIN = 1 << 16;

  /**
   * The system property {@code graft.threads} set to 1 (a Spark executor of one core) runs every loop's blocks one
   * after the other on the calling thread. The blocks themselves do not change, so neither do the results.
   */
  static boolean sequential = Integer.getInteger("graft.threads", 0) == 1; // not final: tests compare both ways

  private Parallel() {}

  public interface RangeBody {
    void run(int from, int to);
  }

  public interface RangeSum {
    double sum(int from, int to);
  }

  public interface BlockBody {
    void run(int block, int from, int to);
  }

  /** How many blocks a loop over [0, n) is cut into: one below {@link #GRAIN}, at most a few per core. */
  public static int blocks(int n) {
    return n < GRAIN ? 1 : Math.min((n + GRAIN - 1) / GRAIN, ForkJoinPool.getCommonPoolParallelism() * 4 + 1);
  }

  /** Block {@code b} of {@code blocks} over [0, n) starts here (and ends where block b + 1 starts). */
  public static int blockStart(int n, int blocks, int b) {
    return (int) ((long) n * b / blocks);
  }

  /**
   * Runs {@code body} over [0, n) cut into {@code blocks} contiguous blocks, in parallel when there are several; the
   * body learns its block's number (for per-block partial results).
   */
  public static void forBlocks(int n, int blocks, BlockBody body) {
    if (blocks == 1) {
      body.run(0, 0, n);
      return;
    }
    if (sequential) {
      for (int i = 0; i < blocks; i++) {
        body.run(i, blockStart(n, blocks, i), blockStart(n, blocks, i + 1));
      }
      return;
    }
    IntStream.range(0, blocks).parallel().forEach(i -> body.run(i, blockStart(n, blocks, i), blockStart(n, blocks, i + 1)));
  }

  /** Runs {@code body} over [0, n) in blocks, in parallel when large. */
  public static void forRange(int n, RangeBody body) {
    forBlocks(n, blocks(n), (b, from, to) -> body.run(from, to));
  }

  /** Sums per-block partial sums, in block order (so the result does not depend on scheduling). */
  public static double sum(int n, RangeSum body) {
    int b = blocks(n);
    if (b == 1) {
      return body.sum(0, n);
    }
    double[] parts = new double[b];
    forBlocks(n, b, (i, from, to) -> parts[i] = body.sum(from, to));
    double s = 0;
    for (double p : parts) {
      s += p;
    }
    return s;
  }
}
