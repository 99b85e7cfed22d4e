package dev.graft.op;

import dev.graft.tensor.spi.SeededMasks;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Independent double-precision merge formulas written from algorithms.md, the oracle of the operator tests. Arrays
 * are row-major with {@code cols} columns; every function returns a new array.
 */
public final class Oracle {
  private Oracle() {}

  public static double[] linear(double[][] xs, double[] w, boolean normalize) {
    int n = xs[0].length;
    double[] out = new double[n];
    double sw = Arrays.stream(w).sum();
    for (int j = 0; j < n; j++) {
      double s = 0;
      for (int i = 0; i < xs.length; i++) {
        s += w[i] * xs[i][j];
      }
      out[j] = normalize ? s / sw : s;
    }
    return out;
  }

  /** Indices sorted ascending by |v| over [from, from+len), ties by index. */
  public static Integer[] ascending(double[] v, int from, int len) {
    return IntStream.range(from, from + len).boxed().sorted(Comparator.comparingDouble((Integer i) -> Math.abs(v[i])).thenComparing(i -> i))
        .toArray(Integer[]::new);
  }

  /** TIES trim: keep the top max(1, floor(d·len)) by magnitude of each group of {@code len} entries. */
  public static double[] magnitude(double[] d, double density, int len) {
    double[] out = new double[d.length];
    for (int off = 0; off < d.length; off += len) {
      int k = Math.max(1, (int) (density * len));
      Integer[] order = ascending(d, off, len);
      for (int r = len - k; r < len; r++) {
        out[order[r]] = d[order[r]];
      }
    }
    return out;
  }

  /** Breadcrumbs: keep ascending ranks [bottom, len − top) per group, mergekit's counts, top band kept when top = 0. */
  public static double[] outliers(double[] d, double density, double gamma, int len) {
    double[] out = new double[d.length];
    for (int off = 0; off < d.length; off += len) {
      long keep = (long) (density * len);
      long top = (long) (gamma * len);
      long bottom = len - keep - top;
      if (bottom < 0) {
        top += bottom;
        bottom = 0;
      }
      Integer[] order = ascending(d, off, len);
      for (long r = bottom; r < len - top; r++) {
        out[order[(int) r]] = d[order[(int) r]];
      }
    }
    return out;
  }

  public static double[] bernoulli(double[] d, double density, long seed) {
    double[] out = new double[d.length];
    for (int j = 0; j < d.length; j++) {
      out[j] = SeededMasks.uniform(seed, j) < density ? d[j] : 0;
    }
    return out;
  }

  /** DELLA: keep with probability (d − ε) + 2ε·rank/(len−1) per row, divided by that probability. */
  public static double[] della(double[] d, double density, double eps, long seed, int len) {
    double[] out = new double[d.length];
    for (int off = 0; off < d.length; off += len) {
      Integer[] order = ascending(d, off, len);
      for (int r = 0; r < len; r++) {
        double p = len == 1 ? density : density - eps + 2 * eps * r / (len - 1);
        int idx = order[r];
        out[idx] = SeededMasks.uniform(seed, idx) < p ? d[idx] / (float) p : 0;
      }
    }
    return out;
  }

  public static double[] l1Rescale(double[] original, double[] kept) {
    double a = Arrays.stream(original).map(Math::abs).sum();
    double b = Arrays.stream(kept).map(Math::abs).sum();
    if (a < 1e-7 || b < 1e-7) {
      return kept;
    }
    return Arrays.stream(kept).map(x -> x * a / b).toArray();
  }

  /** θ₀ + λ·combine(wᵢ·δᵢ) with optional TIES sign consensus (sum) and mergekit's weighted normalisation. */
  public static double[] combine(double[] base, double[][] deltas, double[] w, boolean consensus, boolean normalize, double lambda) {
    int n = base.length;
    double[] out = new double[n];
    double sw = Arrays.stream(w).sum();
    for (int j = 0; j < n; j++) {
      double mixed = 0;
      double div = 0;
      if (consensus) {
        double vote = 0;
        for (int i = 0; i < deltas.length; i++) {
          vote += w[i] * deltas[i][j];
        }
        double s = vote >= 0 ? 1 : -1;
        for (int i = 0; i < deltas.length; i++) {
          double u = w[i] * deltas[i][j];
          if (Math.signum(u) == s) {
            mixed += u;
            div += w[i];
          }
        }
        if (div == 0) {
          div = 1;
        }
      } else {
        for (int i = 0; i < deltas.length; i++) {
          mixed += w[i] * deltas[i][j];
        }
        div = Math.abs(sw) < 1e-8 ? 1 : sw;
      }
      out[j] = base[j] + lambda * (normalize ? mixed / div : mixed);
    }
    return out;
  }

  public static double[] slerp(double t, double[] v0, double[] v1) {
    double n0 = norm(v0);
    double n1 = norm(v1);
    double dot = 0;
    for (int j = 0; j < v0.length; j++) {
      dot += (v0[j] / (n0 > 1e-8 ? n0 : 1)) * (v1[j] / (n1 > 1e-8 ? n1 : 1));
    }
    double[] out = new double[v0.length];
    if (Math.abs(dot) > 0.9995) {
      for (int j = 0; j < v0.length; j++) {
        out[j] = (1 - t) * v0[j] + t * v1[j];
      }
      return out;
    }
    double th = Math.acos(dot);
    for (int j = 0; j < v0.length; j++) {
      out[j] = Math.sin((1 - t) * th) / Math.sin(th) * v0[j] + Math.sin(t * th) / Math.sin(th) * v1[j];
    }
    return out;
  }

  public static double[] modelStock(double[] base, double[][] xs) {
    int n = xs.length;
    double[][] d = new double[n][];
    for (int i = 0; i < n; i++) {
      d[i] = sub(xs[i], base);
    }
    double cos = 0;
    int pairs = 0;
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        double dot = 0;
        for (int k = 0; k < base.length; k++) {
          dot += d[i][k] * d[j][k];
        }
        cos += Math.max(-1, Math.min(1, dot / Math.max(norm(d[i]) * norm(d[j]), 1e-6)));
        pairs++;
      }
    }
    cos /= pairs;
    double t = n * cos / (1 + (n - 1) * cos);
    double[] out = new double[base.length];
    for (int k = 0; k < base.length; k++) {
      double avg = 0;
      for (double[] x : xs) {
        avg += x[k];
      }
      out[k] = t * avg / n + (1 - t) * base[k];
    }
    return out;
  }

  public static double[] fisher(double[][] xs, double[][] fs, double[] c, double floor) {
    double[] out = new double[xs[0].length];
    for (int k = 0; k < out.length; k++) {
      double num = 0;
      double den = 0;
      for (int i = 0; i < xs.length; i++) {
        double f = Math.max(fs[i][k], floor);
        num += c[i] * f * xs[i][k];
        den += c[i] * f;
      }
      out[k] = num / den;
    }
    return out;
  }

  public static double[] sub(double[] a, double[] b) {
    double[] o = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      o[i] = a[i] - b[i];
    }
    return o;
  }

  static double norm(double[] a) {
    double s = 0;
    for (double x : a) {
      s += x * x;
    }
    return Math.sqrt(s);
  }
}
