package dev.graft.align;

import dev.graft.tensor.Shape;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Applies permutations to tensors held as arrays. Convention (Git Re-Basin's {@code apply_permutation}): along an
 * axis permuted by p with block b, the result's block k is the input's block p[k]; {@code B'[..., i, ...] = B[...,
 * p[i], ...]}.
 */
public final class Permuter {
  private Permuter() {}

  /** The identity permutation of size n. */
  public static int[] identity(int n) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    return p;
  }

  /** A uniformly random permutation (Fisher–Yates) from {@code rnd}. */
  public static int[] random(int n, SplittableRandom rnd) {
    return dev.graft.internal.Shuffle.permutation(n, rnd);
  }

  /** q with q[p[i]] = i. */
  public static int[] inverse(int[] p) {
    int[] q = new int[p.length];
    for (int i = 0; i < p.length; i++) {
      q[p[i]] = i;
    }
    return q;
  }

  public static boolean isIdentity(int[] p) {
    for (int i = 0; i < p.length; i++) {
      if (p[i] != i) {
        return false;
      }
    }
    return true;
  }

  /** Index map along a whole axis of length p.length × block: position i reads input index map[i]. */
  static int[] expand(int[] p, int block) {
    if (block == 1) {
      return p;
    }
    int[] m = new int[p.length * block];
    for (int k = 0; k < p.length; k++) {
      for (int j = 0; j < block; j++) {
        m[k * block + j] = p[k] * block + j;
      }
    }
    return m;
  }

  /**
   * Per-axis index maps of a tensor under {@code perms} (null where the axis is not permuted, or is axis {@code
   * skip}), or null when nothing moves.
   */
  static int[][] maps(List<PermutationSpec.Axis> axes, Map<String, int[]> perms, int skip) {
    if (axes == null) {
      return null;
    }
    int[][] maps = new int[axes.size()][];
    boolean any = false;
    for (int a = 0; a < axes.size(); a++) {
      PermutationSpec.Axis x = axes.get(a);
      if (x == null || a == skip) {
        continue;
      }
      int[] p = perms.get(x.perm());
      if (p == null || isIdentity(p)) {
        continue;
      }
      maps[a] = expand(p, x.block());
      any = true;
    }
    return any ? maps : null;
  }

  /** {@code data} with {@code perms} applied to the axes the spec gives (a new array, or {@code data} when nothing moves). */
  public static float[] apply(float[] data, Shape shape, List<PermutationSpec.Axis> axes, Map<String, int[]> perms) {
    return apply(data, shape, maps(axes, perms, -1));
  }

  /** {@code data} with the permutations of every axis but {@code skip} applied (Git Re-Basin's {@code except_axis}). */
  static float[] applyExcept(float[] data, Shape shape, List<PermutationSpec.Axis> axes, Map<String, int[]> perms, int skip) {
    return apply(data, shape, maps(axes, perms, skip));
  }

  static float[] apply(float[] data, Shape shape, int[][] maps) {
    if (maps == null) {
      return data;
    }
    float[] out = new float[data.length];
    gather(shape, maps, (dst, src, n) -> {
      if (n == 1) {
        out[dst] = data[src];
      } else {
        System.arraycopy(data, src, out, dst, n);
      }
    });
    return out;
  }

  /** Stored bytes ({@code elementSize} bytes per element) moved by index maps, for any dtype. */
  static byte[] apply(byte[] data, int elementSize, Shape shape, int[][] maps) {
    if (maps == null) {
      return data;
    }
    byte[] out = new byte[data.length];
    gather(shape, maps, (dst, src, n) -> System.arraycopy(data, src * elementSize, out, dst * elementSize, n * elementSize));
    return out;
  }

  @FunctionalInterface
  interface Copy {
    void run(int dst, int src, int n);
  }

  /**
   * Walks the output in order: runs of {@code n} contiguous elements, each read from one contiguous run of the input.
   * The run is everything after the last permuted axis.
   */
  static void gather(Shape shape, int[][] maps, Copy copy) {
    int rank = shape.rank();
    int last = -1;
    for (int a = 0; a < rank; a++) {
      if (maps[a] != null) {
        last = a;
      }
    }
    long[] stride = new long[rank];
    long s = 1;
    for (int a = rank - 1; a >= 0; a--) {
      stride[a] = s;
      s *= shape.dim(a);
    }
    int inner = Math.toIntExact(last == rank - 1 ? 1 : stride[last]);
    if (rank == 2 && last == 1) {
      // (out, in) with permuted columns: the common case, one element at a time.
      int rows = (int) shape.dim(0);
      int cols = (int) shape.dim(1);
      int[] rm = maps[0];
      int[] cm = maps[1];
      for (int i = 0; i < rows; i++) {
        int src = (rm == null ? i : rm[i]) * cols;
        int dst = i * cols;
        for (int j = 0; j < cols; j++) {
          copy.run(dst + j, src + cm[j], 1);
        }
      }
      return;
    }
    int[] idx = new int[last + 1];
    long outer = 1;
    for (int a = 0; a <= last; a++) {
      outer *= shape.dim(a);
    }
    for (long r = 0, dst = 0; r < outer; r++, dst += inner) {
      long src = 0;
      for (int a = 0; a <= last; a++) {
        src += (maps[a] == null ? idx[a] : maps[a][idx[a]]) * stride[a];
      }
      copy.run((int) dst, (int) src, inner);
      for (int a = last; a >= 0; a--) {
        if (++idx[a] < shape.dim(a)) {
          break;
        }
        idx[a] = 0;
      }
    }
  }
}
