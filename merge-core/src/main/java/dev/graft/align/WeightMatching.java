package dev.graft.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import dev.graft.InvalidInputException;
import dev.graft.backend.djl.DjlBackend;
import dev.graft.model.Weights;
import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Git Re-Basin weight matching (Ainsworth et al. 2023; algorithms.md §2.4): finds permutations of model B's hidden
 * units that make it as close as possible to reference A, by coordinate descent over the permutations of a {@link
 * PermutationSpec}.
 *
 * <p>A sweep visits every permutation once, in an order shuffled from the seed and the sweep index. For permutation
 * P of size n it sums, over every (tensor, axis) P acts on, C += W_a · W̃_bᵀ, where W_a is A's tensor with that axis
 * moved first and flattened to n rows (whole blocks per row), and W̃_b is B's tensor with the current permutations of
 * every other axis applied; then it solves the linear assignment maximising trace(C P) exactly. The new permutation
 * is kept only if it improves C's objective by more than {@code tolerance} × |old objective| (the reference keeps any
 * optimum; keeping the old one on ties makes identical models stop at the identity and never flip between equals).
 * The run stops after the first sweep with no improvement, or after {@code maxSweeps}.
 *
 * <p>Memory: tensors are read (decoded from their memory mapping) when a permutation that touches them is
 * solved and dropped after, so the peak is a few tensors whatever the model size; matrix products run on DJL.
 */
public final class WeightMatching {
  /**
   * @param maxSweeps at most this many sweeps (the reference uses 100)
   * @param tolerance relative improvement of a permutation's objective that counts as progress
   * @param seed seeds the order of permutations in each sweep
   * @param device where the products run
   */
  public record Options(int maxSweeps, double tolerance, long seed, Device device) {
    public Options {
      if (maxSweeps < 1) {
        throw new InvalidInputException("max sweeps must be >= 1, found " + maxSweeps);
      }
      if (!(tolerance >= 0)) {
        throw new InvalidInputException("tolerance must be >= 0, found " + tolerance);
      }
    }

    public static Options defaults() {
      return new Options(100, 1e-9, 0, Device.CPU);
    }
  }

  /**
   * One sweep.
   *
   * @param index 1-based
   * @param improved permutations that changed
   * @param objective Σ over the spec's tensors of ⟨A, π(B)⟩ after the sweep (what matching maximises)
   * @param seconds time the sweep took
   */
  public record Sweep(int index, int improved, double objective, double seconds) {}

  /**
   * The outcome.
   *
   * @param perms every permutation (B'[i] = B[p[i]] along the axes it acts on)
   * @param initialObjective Σ ⟨A, B⟩ before matching
   * @param sweeps every sweep run
   * @param converged whether the last sweep made no change
   */
  public record Result(Map<String, int[]> perms, double initialObjective, List<Sweep> sweeps, boolean converged) {}

  /** Progress: called after each permutation is solved. */
  @FunctionalInterface
  public interface Listener {
    void solved(int sweep, int done, int total, String perm);

    Listener NONE = (s, d, t, p) -> {};
  }

  private WeightMatching() {}

  /**
   * Checks that the spec fits both models and that they agree on every shape it names; returns the permutation sizes.
   *
   * @throws InvalidInputException naming every problem
   */
  public static Map<String, Integer> check(PermutationSpec spec, Weights a, Weights b) {
    Map<String, Shape> ref = shapes(a);
    Map<String, Integer> sizes = spec.sizes(ref, a.origin());
    List<String> problems = mismatches(spec, ref, shapes(b));
    if (!problems.isEmpty()) {
      throw new InvalidInputException(b.origin() + " cannot be aligned to " + a.origin() + ":\n  " + String.join("\n  ", problems)
          + "\nModels can only be aligned when they have the same architecture and sizes");
    }
    return sizes;
  }

  /** The spec's tensors that {@code model} lacks or holds in another shape than {@code reference}, one line each. */
  public static List<String> mismatches(PermutationSpec spec, Map<String, Shape> reference, Map<String, Shape> model) {
    List<String> problems = new ArrayList<>();
    for (String t : spec.tensors().keySet()) {
      Shape m = model.get(t);
      if (m == null) {
        problems.add(t + " is missing");
      } else if (!m.equals(reference.get(t))) {
        problems.add(t + " has shape " + m + ", the reference has " + reference.get(t));
      }
    }
    return problems;
  }

  /** Every tensor's shape. */
  public static Map<String, Shape> shapes(Weights w) {
    Map<String, Shape> m = new LinkedHashMap<>();
    for (String n : w.names()) {
      m.put(n, w.shape(n));
    }
    return m;
  }

  /** Aligns {@code b} to reference {@code a}. */
  public static Result match(PermutationSpec spec, Weights a, Weights b, Options o, Listener listener) {
    Map<String, Integer> sizes = check(spec, a, b);
    Map<String, List<PermutationSpec.Use>> uses = spec.uses();
    Map<String, int[]> perms = new LinkedHashMap<>();
    sizes.forEach((k, n) -> perms.put(k, Permuter.identity(n)));
    List<String> names = new ArrayList<>(perms.keySet());
    List<Sweep> sweeps = new ArrayList<>();
    boolean converged = false;
    double initial;
    try (NDManager manager = DjlBackend.newManager(o.device())) {
      initial = objective(spec, a, b, perms);
      for (int s = 1; s <= o.maxSweeps() && !converged; s++) {
        long t0 = System.nanoTime();
        List<String> order = new ArrayList<>(names);
        SplittableRandom rnd = new SplittableRandom(o.seed() * 0x9E3779B97F4A7C15L + s);
        for (int i = order.size() - 1; i > 0; i--) {
          java.util.Collections.swap(order, i, rnd.nextInt(i + 1));
        }
        int improved = 0;
        for (int g = 0; g < order.size(); g++) {
          String p = order.get(g);
          int n = sizes.get(p);
          float[] c = cost(spec, uses.get(p), n, a, b, perms, manager);
          int[] old = perms.get(p);
          int[] next = LinearAssignment.solve(c, n, n, true).columnOfRow();
          double oldL = trace(c, n, old);
          double newL = trace(c, n, next);
          if (newL - oldL > o.tolerance() * Math.abs(oldL) && !java.util.Arrays.equals(old, next)) {
            perms.put(p, next);
            improved++;
          }
          listener.solved(s, g + 1, order.size(), p);
        }
        converged = improved == 0;
        sweeps.add(new Sweep(s, improved, objective(spec, a, b, perms), (System.nanoTime() - t0) / 1e9));
      }
    }
    return new Result(perms, initial, sweeps, converged);
  }

  /** Σ_i c[i, p[i]]. */
  static double trace(float[] c, int n, int[] p) {
    double s = 0;
    for (int i = 0; i < n; i++) {
      s += c[i * n + p[i]];
    }
    return s;
  }

  /** Elements per chunk when a large tensor is streamed in row ranges. */
  static final long CHUNK = 8L << 20;

  /** Receives a tensor, or a range of its rows, from A, from B as stored, and from B with permutations applied. */
  @FunctionalInterface
  interface Chunk {
    void accept(float[] a, float[] b, float[] permutedB, Shape shape);
  }

  /**
   * Calls {@code f} with tensor {@code t} of A and of B (B with every permutation but that of axis {@code skip}
   * applied), in ranges of whole rows when the tensor is large and its first axis neither moves nor is {@code skip}
   * (embeddings, lm_head), otherwise whole. Memory stays at a chunk whatever the vocabulary size.
   */
  static void chunks(PermutationSpec spec, Weights a, Weights b, String t, Map<String, int[]> perms, int skip, Chunk f) {
    Shape s = a.shape(t);
    int[][] maps = Permuter.maps(spec.tensors().get(t), perms, skip);
    long numel = s.numel();
    boolean split = s.rank() >= 2 && numel > CHUNK && skip != 0 && (maps == null || maps[0] == null);
    if (!split) {
      float[] y = b.floats(t);
      f.accept(a.floats(t), y, Permuter.apply(y, s, maps), s);
      return;
    }
    long rows = s.dim(0);
    long rowSize = numel / rows;
    long per = Math.max(1, CHUNK / rowSize);
    for (long r0 = 0; r0 < rows; r0 += per) {
      long r1 = Math.min(rows, r0 + per);
      long[] dims = s.dims().clone();
      dims[0] = r1 - r0;
      Shape cs = Shape.of(dims);
      int count = Math.toIntExact((r1 - r0) * rowSize);
      float[] y = b.floats(t, r0 * rowSize, count);
      f.accept(a.floats(t, r0 * rowSize, count), y, Permuter.apply(y, cs, maps), cs);
    }
  }

  /** The n × n matrix whose assignment problem gives permutation {@code p}'s best value, the others held fixed. */
  static float[] cost(PermutationSpec spec, List<PermutationSpec.Use> uses, int n, Weights a, Weights b, Map<String, int[]> perms, NDManager parent) {
    try (Arena arena = Arena.ofConfined(); NDManager m = parent.newSubManager()) {
      NDArray[] acc = {null};
      for (PermutationSpec.Use u : uses) {
        chunks(spec, a, b, u.tensor(), perms, u.axis(), (wa, raw, wb, s) -> {
          try (Arena chunk = Arena.ofConfined(); NDManager cm = m.newSubManager()) {
            NDArray x = rows(cm, chunk, wa, s, u.axis(), n);
            NDArray y = rows(cm, chunk, wb, s, u.axis(), n);
            NDArray c = x.matMul(y.transpose());
            if (acc[0] == null) {
              acc[0] = c;
              c.attach(m);
            } else {
              acc[0].addi(c);
            }
          }
        });
      }
      return acc[0].toFloatArray();
    }
  }

  /**
   * The tensor with {@code axis} moved first, as n rows (block × the other axes per row). The data is copied into
   * native memory of {@code arena} that the array uses in place, so it is freed when the arena closes (not when a
   * garbage collection happens to run).
   */
  private static NDArray rows(NDManager m, Arena arena, float[] w, Shape s, int axis, int n) {
    MemorySegment seg = arena.allocate((long) w.length * Float.BYTES, 64);
    MemorySegment.copy(w, 0, seg, ValueLayout.JAVA_FLOAT, 0, w.length);
    NDArray x = m.create(seg.asByteBuffer().order(ByteOrder.nativeOrder()), new ai.djl.ndarray.types.Shape(s.dims()), DataType.FLOAT32);
    if (axis != 0) {
      x = x.swapAxes(0, axis);
    }
    return x.reshape(n, -1);
  }

  /** Σ over the spec's tensors of ⟨A, π(B)⟩, in double precision. */
  public static double objective(PermutationSpec spec, Weights a, Weights b, Map<String, int[]> perms) {
    double[] s = {0};
    for (String t : spec.tensors().keySet()) {
      chunks(spec, a, b, t, perms, -1, (x, raw, y, shape) -> s[0] += dot(x, y));
    }
    return s[0];
  }

  static double dot(float[] x, float[] y) {
    double s0 = 0;
    double s1 = 0;
    int i = 0;
    for (; i + 1 < x.length; i += 2) {
      s0 += (double) x[i] * y[i];
      s1 += (double) x[i + 1] * y[i + 1];
    }
    for (; i < x.length; i++) {
      s0 += (double) x[i] * y[i];
    }
    return s0 + s1;
  }
}
