package dev.graft.align;

import dev.graft.InvalidInputException;
import java.util.Arrays;

/**
 * Exact linear assignment (the problem of SciPy's {@code linear_sum_assignment}): pick one column per row (or one row
 * per column when there are more rows), no column twice, minimising or maximising the summed cost.
 *
 * <p>Algorithm: Jonker &amp; Volgenant (1987), "A shortest augmenting path algorithm for dense and sparse linear
 * assignment problems" — column reduction, reduction transfer and two passes of augmenting row reduction find most of
 * the assignment cheaply, then a Dijkstra-like shortest augmenting path per remaining free row completes it. Work is in
 * double precision on a dense row-major copy. Deterministic: ties are broken by index order.
 *
 * <p>Conventions follow SciPy: a rectangular problem assigns every row of the smaller side; when minimising, {@code
 * +Inf} marks a forbidden pair ({@code -Inf} when maximising) and a problem with no finite assignment is an error; NaN
 * and the other infinity are errors. Forbidden pairs are replaced by a finite penalty larger than any difference of
 * finite assignments, so an optimum that uses one proves that no finite assignment exists.
 */
public final class LinearAssignment {
  /**
   * An optimal assignment.
   *
   * @param rows assigned rows, ascending
   * @param cols {@code cols[k]} is the column assigned to {@code rows[k]}
   * @param cost summed cost of the assignment, in the caller's sense (not negated when maximising)
   * @param u row duals of the square minimisation solved (costs negated when maximising; padded when rectangular)
   * @param v column duals of that problem: {@code c[i][j] - u[i] - v[j] >= 0}, equal to 0 on assigned pairs
   */
  public record Result(int[] rows, int[] cols, double cost, double[] u, double[] v) {
    /** For a problem with at most as many rows as columns: the column of each row. */
    public int[] columnOfRow() {
      int[] r = new int[rows.length];
      for (int k = 0; k < rows.length; k++) {
        r[rows[k]] = cols[k];
      }
      return r;
    }
  }

  private LinearAssignment() {}

  /** Solves a row-major {@code rows × cols} problem of float costs. */
  public static Result solve(float[] cost, int rows, int cols, boolean maximize) {
    checkSize(cost.length, rows, cols);
    double[] d = new double[cost.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = cost[i];
    }
    return solveOwned(d, cost, rows, cols, maximize);
  }

  /** Solves a row-major {@code rows × cols} problem of double costs ({@code cost} is not modified). */
  public static Result solve(double[] cost, int rows, int cols, boolean maximize) {
    checkSize(cost.length, rows, cols);
    return solveOwned(cost.clone(), cost, rows, cols, maximize);
  }

  private static void checkSize(int length, int rows, int cols) {
    if (rows < 0 || cols < 0 || (long) rows * cols != length) {
      throw new IllegalArgumentException("cost matrix of " + length + " values is not " + rows + " × " + cols);
    }
  }

  /** {@code c} is a private copy of {@code original} (float[] or double[]) that may be modified. */
  private static Result solveOwned(double[] c, Object original, int rows, int cols, boolean maximize) {
    if (rows == 0 || cols == 0) {
      return new Result(new int[0], new int[0], 0, new double[0], new double[0]);
    }
    boolean transposed = rows > cols;
    int n = transposed ? cols : rows; // rows of the problem solved
    int m = transposed ? rows : cols; // its columns, m >= n
    // Square minimisation matrix of size m: the rows (transposed when needed, negated when maximising), then m - n
    // zero rows that take the columns nobody is assigned to.
    double[] sq = (!transposed && n == m) ? c : new double[m * m];
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    boolean forbidden = false;
    double sign = maximize ? -1 : 1;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < m; j++) {
        double x = transposed ? c[j * cols + i] : c[i * cols + j];
        if (Double.isNaN(x) || x == (maximize ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY)) {
          throw new InvalidInputException("cost matrix contains " + x + " at (" + (transposed ? j : i) + ", " + (transposed ? i : j)
              + "); only " + (maximize ? "-Inf" : "+Inf") + " (a forbidden pair) and finite values are allowed when " + (maximize ? "maximising" : "minimising"));
        }
        x *= sign;
        if (x == Double.POSITIVE_INFINITY) {
          forbidden = true;
        } else {
          lo = Math.min(lo, x);
          hi = Math.max(hi, x);
        }
        sq[i * m + j] = x;
      }
    }
    double penalty = 0;
    if (forbidden) {
      if (lo == Double.POSITIVE_INFINITY) {
        throw new InvalidInputException("cost matrix is infeasible: every pair is forbidden");
      }
      // Any assignment using a forbidden pair costs more than every finite one.
      penalty = hi + (m + 1.0) * (hi - lo) + 1;
      if (!Double.isFinite(penalty)) {
        throw new InvalidInputException("cost matrix has finite values too large to mark forbidden pairs apart (range " + lo + " to " + hi + ")");
      }
      for (int k = 0; k < n * m; k++) {
        if (sq[k] == Double.POSITIVE_INFINITY) {
          sq[k] = penalty;
        }
      }
    }
    if (sq != c) {
      Arrays.fill(sq, n * m, m * m, 0.0);
    }
    double[] v = new double[m];
    int[] rowsol = jv(m, sq, v);
    double[] u = new double[m];
    for (int i = 0; i < m; i++) {
      u[i] = sq[i * m + rowsol[i]] - v[rowsol[i]];
    }
    int[] outRows = new int[n];
    int[] outCols = new int[n];
    double total = 0;
    if (transposed) {
      // Problem rows are the caller's columns: report by the caller's row, ascending.
      int[] rowOf = new int[rows];
      Arrays.fill(rowOf, -1);
      for (int i = 0; i < n; i++) {
        rowOf[rowsol[i]] = i;
      }
      int k = 0;
      for (int r = 0; r < rows; r++) {
        if (rowOf[r] >= 0) {
          outRows[k] = r;
          outCols[k++] = rowOf[r];
        }
      }
    } else {
      for (int i = 0; i < n; i++) {
        outRows[i] = i;
        outCols[i] = rowsol[i];
      }
    }
    for (int k = 0; k < n; k++) {
      double x = original instanceof float[] f ? f[outRows[k] * cols + outCols[k]] : ((double[]) original)[outRows[k] * cols + outCols[k]];
      if (Double.isInfinite(x)) {
        throw new InvalidInputException("cost matrix is infeasible: no assignment avoids the forbidden (" + (maximize ? "-Inf" : "+Inf") + ") pairs");
      }
      total += x;
    }
    return new Result(outRows, outCols, total, u, v);
  }

  /**
   * Jonker–Volgenant on a square, finite, row-major cost matrix; fills the column prices {@code v} and returns the
   * column of each row.
   */
  static int[] jv(int n, double[] c, double[] v) {
    int[] rowsol = new int[n];
    int[] colsol = new int[n];
    int[] free = new int[n];
    int[] matches = new int[n];
    Arrays.fill(rowsol, -1);
    // Column reduction: every column's minimum, scanned row by row (cache friendly), then assigned from the last
    // column to the first as in the original code.
    double[] colMin = new double[n];
    int[] colArg = new int[n];
    System.arraycopy(c, 0, colMin, 0, n);
    for (int i = 1; i < n; i++) {
      int base = i * n;
      for (int j = 0; j < n; j++) {
        double x = c[base + j];
        if (x < colMin[j]) {
          colMin[j] = x;
          colArg[j] = i;
        }
      }
    }
    for (int j = n - 1; j >= 0; j--) {
      v[j] = colMin[j];
      int imin = colArg[j];
      if (++matches[imin] == 1) {
        rowsol[imin] = j;
        colsol[j] = imin;
      } else if (v[j] < v[rowsol[imin]]) {
        int j1 = rowsol[imin];
        rowsol[imin] = j;
        colsol[j] = imin;
        colsol[j1] = -1;
      } else {
        colsol[j] = -1;
      }
    }
    // Reduction transfer: a row matched once passes its slack to its column.
    int numFree = 0;
    for (int i = 0; i < n; i++) {
      if (matches[i] == 0) {
        free[numFree++] = i;
      } else if (matches[i] == 1 && n > 1) {
        int j1 = rowsol[i];
        double min = Double.POSITIVE_INFINITY;
        int base = i * n;
        for (int j = 0; j < n; j++) {
          if (j != j1) {
            double h = c[base + j] - v[j];
            if (h < min) {
              min = h;
            }
          }
        }
        v[j1] -= min;
      }
    }
    // Augmenting row reduction, two passes. A row displaced by a strict improvement is retried at once; the number of
    // retries is capped so that floating-point ties cannot make it cycle (a capped row simply stays free).
    long retries = 0;
    long maxRetries = 16L * n + 64;
    for (int pass = 0; pass < 2; pass++) {
      int k = 0;
      int prev = numFree;
      numFree = 0;
      while (k < prev) {
        int i = free[k++];
        int base = i * n;
        double umin = c[base] - v[0];
        int j1 = 0;
        int j2 = 0;
        double usubmin = Double.POSITIVE_INFINITY;
        for (int j = 1; j < n; j++) {
          double h = c[base + j] - v[j];
          if (h < usubmin) {
            if (h >= umin) {
              usubmin = h;
              j2 = j;
            } else {
              usubmin = umin;
              umin = h;
              j2 = j1;
              j1 = j;
            }
          }
        }
        int i0 = colsol[j1];
        boolean strict = umin < usubmin;
        if (strict) {
          v[j1] -= usubmin - umin;
        } else if (i0 > -1) {
          j1 = j2;
          i0 = colsol[j2];
        }
        rowsol[i] = j1;
        colsol[j1] = i;
        if (i0 > -1) {
          rowsol[i0] = -1;
          if (strict && retries++ < maxRetries) {
            free[--k] = i0;
          } else {
            free[numFree++] = i0;
          }
        }
      }
    }
    // Shortest augmenting path for each remaining free row.
    double[] d = new double[n];
    int[] pred = new int[n];
    int[] collist = new int[n];
    for (int f = 0; f < numFree; f++) {
      int freeRow = free[f];
      int fb = freeRow * n;
      for (int j = 0; j < n; j++) {
        d[j] = c[fb + j] - v[j];
        pred[j] = freeRow;
        collist[j] = j;
      }
      int low = 0;
      int up = 0;
      int last = 0;
      int endOfPath = -1;
      double min = 0;
      boolean found = false;
      do {
        if (up == low) {
          // Next band of columns at the minimum distance.
          last = low - 1;
          min = d[collist[up++]];
          for (int k = up; k < n; k++) {
            int j = collist[k];
            double h = d[j];
            if (h <= min) {
              if (h < min) {
                up = low;
                min = h;
              }
              collist[k] = collist[up];
              collist[up++] = j;
            }
          }
          for (int k = low; k < up; k++) {
            if (colsol[collist[k]] < 0) {
              endOfPath = collist[k];
              found = true;
              break;
            }
          }
        }
        if (!found) {
          int j1 = collist[low++];
          int i = colsol[j1];
          int ib = i * n;
          double h = c[ib + j1] - v[j1] - min;
          for (int k = up; k < n; k++) {
            int j = collist[k];
            double v2 = c[ib + j] - v[j] - h;
            if (v2 < d[j]) {
              pred[j] = i;
              if (v2 == min) {
                if (colsol[j] < 0) {
                  endOfPath = j;
                  found = true;
                  break;
                }
                collist[k] = collist[up];
                collist[up++] = j;
              }
              d[j] = v2;
            }
          }
        }
      } while (!found);
      // Column prices of the columns scanned before the final band.
      for (int k = 0; k <= last; k++) {
        int j1 = collist[k];
        v[j1] += d[j1] - min;
      }
      // Flip the alternating path.
      int i;
      do {
        i = pred[endOfPath];
        colsol[endOfPath] = i;
        int j1 = endOfPath;
        endOfPath = rowsol[i];
        rowsol[i] = j1;
      } while (i != freeRow);
    }
    return rowsol;
  }
}
