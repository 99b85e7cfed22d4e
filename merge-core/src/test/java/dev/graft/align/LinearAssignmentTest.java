package dev.graft.align;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.graft.InvalidInputException;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LinearAssignmentTest {
  /** The best summed cost over every injective map of the smaller side, by enumeration. */
  static double bruteForce(double[] c, int rows, int cols, boolean maximize) {
    boolean t = rows > cols;
    int n = Math.min(rows, cols);
    int m = Math.max(rows, cols);
    double[] best = {maximize ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY};
    int[] pick = new int[n];
    boolean[] used = new boolean[m];
    search(c, cols, t, n, m, 0, 0, pick, used, maximize, best);
    return best[0];
  }

  private static void search(double[] c, int cols, boolean t, int n, int m, int i, double acc, int[] pick, boolean[] used, boolean max, double[] best) {
    if (i == n) {
      if (max ? acc > best[0] : acc < best[0]) {
        best[0] = acc;
      }
      return;
    }
    for (int j = 0; j < m; j++) {
      if (!used[j]) {
        used[j] = true;
        search(c, cols, t, n, m, i + 1, acc + (t ? c[j * cols + i] : c[i * cols + j]), pick, used, max, best);
        used[j] = false;
      }
    }
  }

  private static void checkValid(LinearAssignment.Result r, int rows, int cols) {
    assertThat(r.rows()).hasSize(Math.min(rows, cols));
    assertThat(r.rows()).isSorted();
    assertThat(Arrays.stream(r.rows()).distinct().count()).isEqualTo(r.rows().length);
    assertThat(Arrays.stream(r.cols()).distinct().count()).isEqualTo(r.cols().length);
    assertThat(Arrays.stream(r.rows()).allMatch(x -> x >= 0 && x < rows)).isTrue();
    assertThat(Arrays.stream(r.cols()).allMatch(x -> x >= 0 && x < cols)).isTrue();
  }

  private static double costOf(LinearAssignment.Result r, double[] c, int cols) {
    double s = 0;
    for (int k = 0; k < r.rows().length; k++) {
      s += c[r.rows()[k] * cols + r.cols()[k]];
    }
    return s;
  }

  @Test
  void smallRandomProblemsMatchBruteForce() {
    SplittableRandom rnd = new SplittableRandom(1);
    for (int trial = 0; trial < 600; trial++) {
      int rows = 1 + rnd.nextInt(7);
      int cols = 1 + rnd.nextInt(7);
      double[] c = new double[rows * cols];
      int kind = trial % 3;
      for (int i = 0; i < c.length; i++) {
        c[i] = kind == 0 ? rnd.nextDouble() * 100 - 50 : kind == 1 ? rnd.nextInt(4) : Math.round(rnd.nextGaussian() * 1e6);
      }
      for (boolean max : new boolean[] {false, true}) {
        LinearAssignment.Result r = LinearAssignment.solve(c, rows, cols, max);
        checkValid(r, rows, cols);
        double expect = bruteForce(c, rows, cols, max);
        assertThat(r.cost()).as("trial %d %dx%d max=%s", trial, rows, cols, max).isCloseTo(expect, org.assertj.core.data.Offset.offset(1e-9 * (1 + Math.abs(expect))));
        assertThat(costOf(r, c, cols)).isCloseTo(r.cost(), org.assertj.core.data.Offset.offset(1e-9 * (1 + Math.abs(expect))));
      }
    }
  }

  @Test
  void degenerateMatrices() {
    // All equal: any permutation is optimal; the result must still be a permutation.
    double[] flat = new double[25];
    Arrays.fill(flat, 3);
    LinearAssignment.Result r = LinearAssignment.solve(flat, 5, 5, false);
    checkValid(r, 5, 5);
    assertThat(r.cost()).isEqualTo(15);
    // Constant rows, constant columns.
    double[] rowsConst = new double[36];
    double[] colsConst = new double[36];
    for (int i = 0; i < 6; i++) {
      for (int j = 0; j < 6; j++) {
        rowsConst[i * 6 + j] = i;
        colsConst[i * 6 + j] = j * j;
      }
    }
    assertThat(LinearAssignment.solve(rowsConst, 6, 6, true).cost()).isEqualTo(15);
    assertThat(LinearAssignment.solve(colsConst, 6, 6, false).cost()).isEqualTo(55);
    // Identity of a diagonal-dominant matrix, and float input.
    float[] eye = new float[16];
    for (int i = 0; i < 4; i++) {
      eye[i * 4 + i] = 1;
    }
    assertThat(LinearAssignment.solve(eye, 4, 4, true).columnOfRow()).containsExactly(0, 1, 2, 3);
    // Empty and 1x1.
    assertThat(LinearAssignment.solve(new double[0], 0, 3, false).rows()).isEmpty();
    assertThat(LinearAssignment.solve(new double[] {-2}, 1, 1, false).cost()).isEqualTo(-2);
  }

  @Test
  void infinityMarksForbiddenPairs() {
    double inf = Double.POSITIVE_INFINITY;
    double[] c = {inf, 1, 5, 2, inf, 1, 9, 9, inf};
    LinearAssignment.Result r = LinearAssignment.solve(c, 3, 3, false);
    assertThat(r.cost()).isEqualTo(bruteForce(c, 3, 3, false)).isEqualTo(11);
    double[] neg = {Double.NEGATIVE_INFINITY, 1, 5, 2, Double.NEGATIVE_INFINITY, 1};
    assertThat(LinearAssignment.solve(neg, 2, 3, true).cost()).isEqualTo(bruteForce(neg, 2, 3, true)).isEqualTo(7);
    // A row with nothing allowed, and two rows sharing their only column: infeasible.
    assertThatThrownBy(() -> LinearAssignment.solve(new double[] {inf, inf, 1, 2}, 2, 2, false))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("infeasible");
    assertThatThrownBy(() -> LinearAssignment.solve(new double[] {1, inf, 2, inf}, 2, 2, false))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("infeasible");
    assertThatThrownBy(() -> LinearAssignment.solve(new double[] {1, Double.NaN}, 1, 2, false))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("NaN at (0, 1)");
    assertThatThrownBy(() -> LinearAssignment.solve(new double[] {1, Double.NEGATIVE_INFINITY}, 1, 2, false))
        .isInstanceOf(InvalidInputException.class).hasMessageContaining("-Infinity at (0, 1)");
    assertThatThrownBy(() -> LinearAssignment.solve(new double[] {1, 2, 3}, 2, 2, false)).isInstanceOf(IllegalArgumentException.class);
  }

  /** Optimality on large problems: the duals are feasible and tight on the assignment (complementary slackness). */
  @Test
  void largeProblemsAreOptimalByDuality() {
    SplittableRandom rnd = new SplittableRandom(5);
    for (int[] dims : new int[][] {{600, 600}, {300, 700}, {700, 300}}) {
      for (int kind = 0; kind < 3; kind++) {
        int rows = dims[0];
        int cols = dims[1];
        double[] c = new double[rows * cols];
        for (int i = 0; i < rows; i++) {
          for (int j = 0; j < cols; j++) {
            c[i * cols + j] = switch (kind) {
              case 0 -> rnd.nextDouble();
              case 1 -> rnd.nextInt(10); // many ties
              default -> (i == j ? 5 : 0) + rnd.nextGaussian(); // weight-matching-like: a planted diagonal
            };
          }
        }
        boolean max = kind == 2;
        LinearAssignment.Result r = LinearAssignment.solve(c, rows, cols, max);
        checkValid(r, rows, cols);
        checkDuals(r, c, rows, cols, max);
        if (kind == 2 && rows == cols) {
          assertThat(r.columnOfRow()).containsExactly(java.util.stream.IntStream.range(0, rows).toArray());
        }
      }
    }
  }

  /** Reconstructs the square minimisation problem the solver saw and checks its duals. */
  private static void checkDuals(LinearAssignment.Result r, double[] c, int rows, int cols, boolean max) {
    boolean t = rows > cols;
    int n = Math.min(rows, cols);
    int m = Math.max(rows, cols);
    double[] u = r.u();
    double[] v = r.v();
    int[] colOf = new int[m];
    Arrays.fill(colOf, -1);
    for (int k = 0; k < r.rows().length; k++) {
      int pr = t ? r.cols()[k] : r.rows()[k];
      int pc = t ? r.rows()[k] : r.cols()[k];
      colOf[pr] = pc;
    }
    double tol = 1e-9 * m;
    int slack = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        double x = i >= n ? 0 : (max ? -1 : 1) * (t ? c[j * cols + i] : c[i * cols + j]);
        double red = x - u[i] - v[j];
        assertThat(red).as("reduced cost at (%d, %d)", i, j).isGreaterThanOrEqualTo(-tol);
        if (colOf[i] == j) {
          assertThat(Math.abs(red)).isLessThanOrEqualTo(tol);
          slack++;
        }
      }
    }
    assertThat(slack).isEqualTo(n);
  }
}
