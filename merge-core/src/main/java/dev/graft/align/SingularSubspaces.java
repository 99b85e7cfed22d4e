package dev.graft.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.SplittableRandom;

/**
 * Top-k singular subspaces of a matrix by randomized subspace iteration (Halko, Martinsson &amp; Tropp 2011: a seeded
 * Gaussian sketch of k + 8 columns, a few power iterations with re-orthonormalisation, then the exact SVD of the small
 * projected matrix through a Jacobi eigensolver). Products run on DJL; the small dense algebra is plain Java.
 *
 * <p>Used for Ito et al.'s diagnostic: a permutation leaves singular values unchanged and permutes singular vectors,
 * so the left vectors of P·X·Qᵀ are P·U and the right ones Q·V; alignment works when it makes B's large singular
 * directions agree with A's. Agreement of two k-dimensional subspaces is ‖U_aᵀ U_b‖²_F / k, from 0 (orthogonal) to 1.
 */
public final class SingularSubspaces {
  /**
   * Top singular vectors, as columns.
   *
   * @param left m × k, row-major
   * @param right n × k, row-major
   * @param values the k largest singular values, descending
   */
  public record Top(int m, int n, int k, double[] left, double[] right, double[] values) {}

  private SingularSubspaces() {}

  /** Top-{@code k} singular subspaces of the row-major m × n matrix {@code x}. */
  public static Top of(NDManager parent, float[] x, int m, int n, int k, int powerIterations, long seed) {
    int l = Math.min(Math.min(m, n), k + 8);
    k = Math.min(k, l);
    try (NDManager mg = parent.newSubManager()) {
      NDArray a = mg.create(x, new ai.djl.ndarray.types.Shape(m, n));
      NDArray at = a.transpose();
      SplittableRandom rnd = new SplittableRandom(seed);
      float[] omega = new float[n * l];
      for (int i = 0; i < omega.length; i++) {
        omega[i] = (float) rnd.nextGaussian();
      }
      double[] q = orthonormal(a.matMul(mg.create(omega, new ai.djl.ndarray.types.Shape(n, l))).toFloatArray(), m, l);
      for (int it = 0; it < powerIterations; it++) {
        double[] z = orthonormal(at.matMul(upload(mg, q, m, l)).toFloatArray(), n, l);
        q = orthonormal(a.matMul(upload(mg, z, n, l)).toFloatArray(), m, l);
      }
      // B = Qᵀ A (l × n); B Bᵀ = W Σ² Wᵀ; left vectors Q W, right vectors Bᵀ W / σ.
      float[] bt = at.matMul(upload(mg, q, m, l)).toFloatArray(); // n × l = (QᵀA)ᵀ
      double[] s = new double[l * l];
      for (int i = 0; i < l; i++) {
        for (int j = i; j < l; j++) {
          double v = 0;
          for (int r = 0; r < n; r++) {
            v += (double) bt[r * l + i] * bt[r * l + j];
          }
          s[i * l + j] = v;
          s[j * l + i] = v;
        }
      }
      double[] w = new double[l * l];
      double[] ev = jacobiEigen(s, l, w);
      Integer[] order = new Integer[l];
      for (int i = 0; i < l; i++) {
        order[i] = i;
      }
      java.util.Arrays.sort(order, (p, r) -> Double.compare(ev[r], ev[p]));
      double[] left = new double[m * k];
      double[] right = new double[n * k];
      double[] values = new double[k];
      for (int c = 0; c < k; c++) {
        int e = order[c];
        double sigma = Math.sqrt(Math.max(0, ev[e]));
        values[c] = sigma;
        for (int r = 0; r < m; r++) {
          double v = 0;
          for (int t = 0; t < l; t++) {
            v += q[r * l + t] * w[t * l + e];
          }
          left[r * k + c] = v;
        }
        for (int r = 0; r < n; r++) {
          double v = 0;
          for (int t = 0; t < l; t++) {
            v += bt[r * l + t] * w[t * l + e];
          }
          right[r * k + c] = sigma > 0 ? v / sigma : 0;
        }
      }
      return new Top(m, n, k, left, right, values);
    }
  }

  /**
   * Agreement of A's and B's subspaces after B's rows are permuted by {@code rowMap} and its columns by {@code colMap}
   * (null: unpermuted): the mean over left and right of ‖U_aᵀ U_b‖²_F / k.
   */
  public static double agreement(Top a, Top b, int[] rowMap, int[] colMap) {
    return (overlap(a.left(), b.left(), a.m(), a.k(), rowMap) + overlap(a.right(), b.right(), a.n(), a.k(), colMap)) / 2;
  }

  private static double overlap(double[] ua, double[] ub, int rows, int k, int[] map) {
    double f = 0;
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        double d = 0;
        for (int r = 0; r < rows; r++) {
          d += ua[r * k + i] * ub[(map == null ? r : map[r]) * k + j];
        }
        f += d * d;
      }
    }
    return f / k;
  }

  private static NDArray upload(NDManager m, double[] x, int rows, int cols) {
    float[] f = new float[x.length];
    for (int i = 0; i < f.length; i++) {
      f[i] = (float) x[i];
    }
    return m.create(f, new ai.djl.ndarray.types.Shape(rows, cols));
  }

  /** Orthonormal columns (modified Gram–Schmidt, twice) of a row-major rows × cols matrix. */
  static double[] orthonormal(float[] x, int rows, int cols) {
    double[] q = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      q[i] = x[i];
    }
    for (int pass = 0; pass < 2; pass++) {
      for (int c = 0; c < cols; c++) {
        for (int p = 0; p < c; p++) {
          double d = 0;
          for (int r = 0; r < rows; r++) {
            d += q[r * cols + p] * q[r * cols + c];
          }
          for (int r = 0; r < rows; r++) {
            q[r * cols + c] -= d * q[r * cols + p];
          }
        }
        double norm = 0;
        for (int r = 0; r < rows; r++) {
          norm += q[r * cols + c] * q[r * cols + c];
        }
        norm = Math.sqrt(norm);
        for (int r = 0; r < rows; r++) {
          q[r * cols + c] = norm > 0 ? q[r * cols + c] / norm : 0;
        }
      }
    }
    return q;
  }

  /** Eigenvalues of a symmetric n × n matrix (cyclic Jacobi); eigenvectors into the columns of {@code v}. */
  static double[] jacobiEigen(double[] a0, int n, double[] v) {
    double[] a = a0.clone();
    java.util.Arrays.fill(v, 0);
    for (int i = 0; i < n; i++) {
      v[i * n + i] = 1;
    }
    for (int sweep = 0; sweep < 100; sweep++) {
      double off = 0;
      for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
          off += a[i * n + j] * a[i * n + j];
        }
      }
      if (off < 1e-30) {
        break;
      }
      for (int p = 0; p < n; p++) {
        for (int q = p + 1; q < n; q++) {
          double apq = a[p * n + q];
          if (Math.abs(apq) < 1e-300) {
            continue;
          }
          double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
          double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          if (theta == 0) {
            t = 1;
          }
          double c = 1 / Math.sqrt(t * t + 1);
          double s = t * c;
          for (int r = 0; r < n; r++) {
            double arp = a[r * n + p];
            double arq = a[r * n + q];
            a[r * n + p] = c * arp - s * arq;
            a[r * n + q] = s * arp + c * arq;
          }
          for (int r = 0; r < n; r++) {
            double apr = a[p * n + r];
            double aqr = a[q * n + r];
            a[p * n + r] = c * apr - s * aqr;
            a[q * n + r] = s * apr + c * aqr;
          }
          for (int r = 0; r < n; r++) {
            double vrp = v[r * n + p];
            double vrq = v[r * n + q];
            v[r * n + p] = c * vrp - s * vrq;
            v[r * n + q] = s * vrp + c * vrq;
          }
        }
      }
    }
    double[] ev = new double[n];
    for (int i = 0; i < n; i++) {
      ev[i] = a[i * n + i];
    }
    return ev;
  }
}
