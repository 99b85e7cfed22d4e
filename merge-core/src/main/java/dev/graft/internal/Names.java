package dev.graft.internal;

import java.util.Collection;

/** Did-you-mean suggestions for names (tensors, operators, parameters, keys). */
public final class Names {
  private Names() {}

  /**
   * The closest candidate within a small edit distance (a swap of neighbours counts as one edit), or null; among
   * equally close candidates, one of the same length wins, then the first in sorted order.
   */
  public static String closest(String name, Collection<String> candidates) {
    String best = null;
    int bestD = Integer.MAX_VALUE;
    for (String n : candidates.stream().sorted().toList()) {
      int d = levenshtein(name, n, bestD == Integer.MAX_VALUE ? bestD : bestD + 1);
      if (d < bestD || (d == bestD && n.length() == name.length() && best.length() != name.length())) {
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

  /**
   * Edit distance with adjacent transpositions (optimal string alignment), or {@code cap} when it is at least
   * {@code cap}.
   */
  public static int levenshtein(String a, String b, int cap) {
    if (Math.abs(a.length() - b.length()) >= cap) {
      return cap;
    }
    int[] prev2 = new int[b.length() + 1];
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
        if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
          cur[j] = Math.min(cur[j], prev2[j - 2] + 1);
        }
      }
      int[] t = prev2;
      prev2 = prev;
      prev = cur;
      cur = t;
    }
    return Math.min(prev[b.length()], cap);
  }
}
