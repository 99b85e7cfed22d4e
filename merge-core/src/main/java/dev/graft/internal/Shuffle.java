package dev.graft.internal;

import java.util.SplittableRandom;

/** Fisher–Yates shuffles. */
public final class Shuffle {
  private Shuffle() {}

  /** A uniformly random permutation of {@code 0..n-1} drawn from {@code rnd}. */
  public static int[] permutation(int n, SplittableRandom rnd) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
