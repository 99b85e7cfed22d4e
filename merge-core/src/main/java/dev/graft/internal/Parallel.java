package dev.graft.internal;

import java.util.stream.IntStream;

/**
 * Block-parallel loops over index ranges, with results combined in a fixed order. The blocks depend only on the
 * range's length, never on the machine's cores or the thread count, so sums give the same bits everywhere (a run's
 * driver and its cluster executors, a laptop and a server).
 */
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

  /** The most blocks a loop is cut into: enough to balance 16 threads, few enough for per-block histograms. */
  public static final int MAX_BLOCKS = 16;

  /** How many blocks a loop over [0, n) is cut into: one per {@link #GRAIN} elements, at most {@link #MAX_BLOCKS}. */
  public static int blocks(int n) {
    return n < GRAIN ? 1 : Math.min((n + GRAIN - 1) / GRAIN, MAX_BLOCKS);
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
