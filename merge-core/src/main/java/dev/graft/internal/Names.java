package dev.graft.internal;

import java.util.Collection;

/** Did-you-mean suggestions for names (tensors, operators, parameters, keys). */
public final class Names {
  private Names() {}

  /** The closest candidate within a small edit distance, or null. */
  public static String closest(String name, Collection<String> candidates) {
    String best = null;
    int bestD = Integer.MAX_VALUE;
    for (String n : candidates) {
      int d = levenshtein(name, n, bestD);
      if (d < bestD) {
        bestD = d;
        best = n;
      }
    }
    return best != null && bestD <= Math.max(2, name.length() / 4) ? best : null;
  }

  /** {@code "Did you mean 'x'?"}, or empty. */
  public static String didYouMean(String name, Collection<String> candidates) {
    String c = closest(name, candidates);
    return c == null ? "" : "Did you mean '" + c + "'?";
  }

  /** Edit distance, or {@code cap} when it is at least {@code cap}. */
  public static int levenshtein(String a, String b, int cap) {
    if (Math.abs(a.length() - b.length()) >= cap) {
      return cap;
    }
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int c = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + c);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
