package dev.graft.bench;

import dev.graft.align.LinearAssignment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What this measures: {@link LinearAssignment} on the two kinds of n × n matrices of issue 4's SciPy targets.
 * {@code random}: costs uniform in [0, 1), minimised. {@code wm}: weight-matching-like, maximised: W_a·W_bᵀ where W_a
 * is n × 512 standard normal and W_b a row-permuted copy plus normal noise of std 0.5 (as in matching a noisy permuted
 * layer). Each call includes the float → double copy the solver makes. Score: seconds per solve.
 *
 * <p>How to run: {@code java -jar benchmarks/target/benchmarks.jar AssignmentBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 4)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
public class AssignmentBenchmark {
  @Param({"2048", "4096"})
  public int n;

  @Param({"random", "wm"})
  public String kind;

  private float[] cost;

  @Setup(Level.Trial)
  public void setUp() {
    cost = make(n, kind, 1);
  }

  /** The benchmark's matrices (also used by the test that records the figures' inputs). */
  public static float[] make(int n, String kind, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    float[] c = new float[n * n];
    if (kind.equals("random")) {
      for (int i = 0; i < c.length; i++) {
        c[i] = (float) rnd.nextDouble();
      }
      return c;
    }
    int k = 512;
    float[] a = new float[n * k];
    for (int i = 0; i < a.length; i++) {
      a[i] = (float) rnd.nextGaussian();
    }
    int[] perm = java.util.stream.IntStream.range(0, n).toArray();
    for (int i = n - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    float[] b = new float[n * k];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < k; j++) {
        b[i * k + j] = a[perm[i] * k + j] + (float) (0.5 * rnd.nextGaussian());
      }
    }
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int t = 0; t < k; t++) {
          s += a[i * k + t] * b[j * k + t];
        }
        c[i * n + j] = (float) s;
      }
    }
    return c;
  }

  @Benchmark
  public int[] solve() {
    return LinearAssignment.solve(cost, n, n, kind.equals("wm")).cols();
  }
}
