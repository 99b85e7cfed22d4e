package dev.graft.evolve;

import java.util.Arrays;

/**
 * Box bounds of a gene vector; both ends finite.
 *
 * @param lower smallest value of each gene
 * @param upper largest value of each gene
 */
public record Bounds(double[] lower, double[] upper) {
  public Bounds {
    if (lower.length != upper.length) {
      throw new IllegalArgumentException(lower.length + " lower bounds, " + upper.length + " upper bounds");
    }
    for (int i = 0; i < lower.length; i++) {
      if (!(Double.isFinite(lower[i]) && Double.isFinite(upper[i]) && lower[i] <= upper[i])) {
        throw new IllegalArgumentException("gene " + i + ": bounds [" + lower[i] + ", " + upper[i] + "] are not a finite interval");
      }
    }
  }

  /** Every gene in {@code [lo, hi]}. */
  public static Bounds uniform(int n, double lo, double hi) {
    double[] l = new double[n];
    double[] u = new double[n];
    Arrays.fill(l, lo);
    Arrays.fill(u, hi);
    return new Bounds(l, u);
  }

  public int size() {
    return lower.length;
  }

  /** {@code x} with every gene moved into its interval (a new array). */
  public double[] clamp(double[] x) {
    double[] y = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      y[i] = Math.max(lower[i], Math.min(upper[i], x[i]));
    }
    return y;
  }

  /** A uniform random point. */
  public double[] sample(java.util.SplittableRandom rng) {
    double[] x = new double[lower.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = lower[i] + rng.nextDouble() * (upper[i] - lower[i]);
    }
    return x;
  }
}
