package dev.graft.internal;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Large float arrays kept for reuse between the tensors of a merge. A fresh array costs more than its size suggests:
 * the JVM zeroes it and the operating system maps its pages on first touch (on machines whose host reclaims idle
 * memory, every new array faults again: 12 ns per element measured here, ten times a fused merge kernel). Arrays come
 * back with undefined contents: a taker must write every element before reading any.
 *
 * <p>Arrays under 64 K elements are simply allocated. The pool holds at most a quarter of the maximum heap; when a
 * returned array would not fit, arrays of other lengths are dropped first, then the returned one.
 */
public final class FloatArrays {
  static final int MIN = 1 << 16;
  private static final Map<Integer, ArrayDeque<float[]>> FREE = new HashMap<>();
  private static final long CAP = Runtime.getRuntime().maxMemory() / 4;
  private static long held;

  private FloatArrays() {}

  /** An array of exactly {@code n} floats, contents undefined. */
  public static float[] take(int n) {
    if (n >= MIN) {
      synchronized (FREE) {
        ArrayDeque<float[]> q = FREE.get(n);
        float[] a = q == null ? null : q.poll();
        if (a != null) {
          held -= 4L * n;
          return a;
        }
      }
    }
    return new float[n];
  }

  /** Hands {@code a} back (null is ignored); the caller must not use it afterwards. */
  public static void give(float[] a) {
    if (a == null || a.length < MIN) {
      return;
    }
    long bytes = 4L * a.length;
    synchronized (FREE) {
      if (held + bytes > CAP) {
        FREE.entrySet().removeIf(e -> {
          if (e.getKey() != a.length) {
            held -= 4L * e.getKey() * e.getValue().size();
            return true;
          }
          return false;
        });
      }
      if (held + bytes <= CAP) {
        FREE.computeIfAbsent(a.length, k -> new ArrayDeque<>()).push(a);
        held += bytes;
      }
    }
  }
}
