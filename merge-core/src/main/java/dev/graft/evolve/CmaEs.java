package dev.graft.evolve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * CMA-ES (Hansen's covariance matrix adaptation evolution strategy, the standard (μ/μ_w, λ) form with cumulative
 * step-size adaptation, rank-one and rank-μ updates), maximising fitness.
 *
 * <p>With bounds, the search runs in coordinates normalised to [0, 1] per gene (so σ is a fraction of each gene's
 * interval) and a sample that falls outside is redrawn, up to 100 times, then clamped — the clamped point is both
 * what is evaluated and what the update sees, so the mean stays inside the box. {@code diagonal} selects
 * separable CMA-ES (Ros and Hansen 2008: a diagonal covariance, learning rates scaled by (n+2)/3), which costs O(n)
 * per sample and suits thousands of genes. IPOP restarts (optional) double λ and start again from a new random mean
 * when σ collapses or the covariance degenerates.
 */
public final class CmaEs implements Optimizer {
  /**
   * Settings.
   *
   * @param sigma initial step size (in normalised units when bounded; mergekit-evolve uses 1/6)
   * @param popsize λ, or 0 for 4 + ⌊3 ln n⌋
   * @param diagonal separable CMA-ES (diagonal covariance)
   * @param restarts IPOP restarts allowed (0 = none)
   */
  public record Options(double sigma, int popsize, boolean diagonal, int restarts) {
    public Options {
      if (!(sigma > 0) || popsize < 0 || restarts < 0) {
        throw new IllegalArgumentException("cmaes needs sigma > 0, popsize >= 0 and restarts >= 0");
      }
    }
  }

  private final Options options;
  private final Bounds bounds;
  private final int n;
  private final double[] start;

  // strategy parameters, set by init(lambda)
  private int lambda;
  private int mu;
  private double[] weights;
  private double mueff;
  private double cc;
  private double cs;
  private double c1;
  private double cmu;
  private double damps;
  private double chiN;

  // state
  private double[] mean;
  private double sigma;
  private double[] pc;
  private double[] ps;
  private double[][] c; // full covariance (null when diagonal)
  private double[][] b; // eigenvectors (columns)
  private double[] d; // sqrt of eigenvalues, or of the diagonal
  private long generation;
  private long evalsSinceEigen;
  private int restartsDone;
  private double[][] pending; // normalised points of the last ask
  private final BestSoFar seen = new BestSoFar();

  /**
   * @param start the initial mean (in gene units)
   * @param bounds box bounds, or null for an unbounded search
   */
  public CmaEs(Options options, double[] start, Bounds bounds) {
    this.options = options;
    this.bounds = bounds;
    this.n = start.length;
    if (n < 1) {
      throw new IllegalArgumentException("cmaes needs at least one gene");
    }
    if (bounds != null && bounds.size() != n) {
      throw new IllegalArgumentException(n + " genes, " + bounds.size() + " bounds");
    }
    this.start = start.clone();
    init(options.popsize() > 0 ? options.popsize() : 4 + (int) Math.floor(3 * Math.log(n)), normalise(bounds == null ? start : bounds.clamp(start)));
  }

  private void init(int lam, double[] m) {
    lambda = Math.max(2, lam);
    mu = lambda / 2;
    weights = new double[mu];
    double sw = 0;
    for (int i = 0; i < mu; i++) {
      weights[i] = Math.log(mu + 0.5) - Math.log(i + 1);
      sw += weights[i];
    }
    double sw2 = 0;
    for (int i = 0; i < mu; i++) {
      weights[i] /= sw;
      sw2 += weights[i] * weights[i];
    }
    mueff = 1 / sw2;
    cc = (4 + mueff / n) / (n + 4 + 2 * mueff / n);
    cs = (mueff + 2) / (n + mueff + 5);
    c1 = 2 / ((n + 1.3) * (n + 1.3) + mueff);
    cmu = Math.min(1 - c1, 2 * (mueff - 2 + 1 / mueff) / ((n + 2) * (n + 2) + mueff));
    if (options.diagonal()) {
      double f = (n + 2) / 3.0;
      c1 = Math.min(1, c1 * f);
      cmu = Math.min(1 - c1, cmu * f);
    }
    damps = 1 + 2 * Math.max(0, Math.sqrt((mueff - 1) / (n + 1)) - 1) + cs;
    chiN = Math.sqrt(n) * (1 - 1.0 / (4 * n) + 1.0 / (21.0 * n * n));
    mean = m.clone();
    sigma = options.sigma();
    pc = new double[n];
    ps = new double[n];
    d = new double[n];
    Arrays.fill(d, 1);
    if (options.diagonal()) {
      c = null;
      b = null;
    } else {
      c = identity(n);
      b = identity(n);
    }
    generation = 0;
    evalsSinceEigen = 0;
  }

  private static double[][] identity(int n) {
    double[][] m = new double[n][n];
    for (int i = 0; i < n; i++) {
      m[i][i] = 1;
    }
    return m;
  }

  private double[] normalise(double[] x) {
    if (bounds == null) {
      return x.clone();
    }
    double[] u = new double[n];
    for (int i = 0; i < n; i++) {
      double w = bounds.upper()[i] - bounds.lower()[i];
      u[i] = w == 0 ? 0.5 : (x[i] - bounds.lower()[i]) / w;
    }
    return u;
  }

  private double[] denormalise(double[] u) {
    if (bounds == null) {
      return u.clone();
    }
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = bounds.lower()[i] + u[i] * (bounds.upper()[i] - bounds.lower()[i]);
    }
    return x;
  }

  @Override
  public String method() {
    return "cmaes";
  }

  @Override
  public int generationSize() {
    return lambda;
  }

  /** λ of the current (re)start. */
  public int lambda() {
    return lambda;
  }

  /** The current step size. */
  public double sigma() {
    return sigma;
  }

  /** The current mean, in gene units. */
  public double[] mean() {
    return denormalise(mean);
  }

  @Override
  public List<Proposal> ask(SplittableRandom rng) {
    if (degenerate() && restartsDone < options.restarts()) {
      restart(rng);
    }
    pending = new double[lambda][];
    List<Proposal> out = new ArrayList<>();
    for (int k = 0; k < lambda; k++) {
      double[] u = sample(rng);
      int tries = 1;
      while (bounds != null && !inside(u) && tries < 100) {
        u = sample(rng);
        tries++;
      }
      if (bounds != null && !inside(u)) {
        for (int i = 0; i < n; i++) {
          u[i] = Math.max(0, Math.min(1, u[i]));
        }
      }
      pending[k] = u;
      ObjectNode origin = States.origin("sample").put("generation", generation).put("restart", restartsDone).put("sigma", sigma);
      out.add(new Proposal(new Genome.Genes(bounds == null ? denormalise(u) : bounds.clamp(denormalise(u))), origin));
    }
    return out;
  }

  private boolean inside(double[] u) {
    for (double v : u) {
      if (v < 0 || v > 1) {
        return false;
      }
    }
    return true;
  }

  private double[] sample(SplittableRandom rng) {
    double[] z = new double[n];
    for (int i = 0; i < n; i++) {
      z[i] = d[i] * rng.nextGaussian();
    }
    double[] u = new double[n];
    if (b == null) {
      for (int i = 0; i < n; i++) {
        u[i] = mean[i] + sigma * z[i];
      }
    } else {
      for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < n; j++) {
          s += b[i][j] * z[j];
        }
        u[i] = mean[i] + sigma * s;
      }
    }
    return u;
  }

  @Override
  public void tell(List<Evaluated> results) {
    if (pending == null || results.size() != pending.length) {
      throw new IllegalStateException("cmaes expected " + (pending == null ? 0 : pending.length) + " results, got " + results.size());
    }
    seen.told(results);
    Integer[] order = new Integer[lambda];
    for (int i = 0; i < lambda; i++) {
      order[i] = i;
    }
    // best first; a stable sort keeps proposal order among equal fitness, so ranks are deterministic
    Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -results.get(i).fitness()));
    double[] old = mean;
    mean = new double[n];
    for (int k = 0; k < mu; k++) {
      double[] x = pending[order[k]];
      for (int i = 0; i < n; i++) {
        mean[i] += weights[k] * x[i];
      }
    }
    double[] yw = new double[n];
    for (int i = 0; i < n; i++) {
      yw[i] = (mean[i] - old[i]) / sigma;
    }
    // C^(-1/2) yw = B D^-1 B^T yw
    double[] cInvSqrtY = new double[n];
    if (b == null) {
      for (int i = 0; i < n; i++) {
        cInvSqrtY[i] = yw[i] / d[i];
      }
    } else {
      double[] t = new double[n];
      for (int j = 0; j < n; j++) {
        double s = 0;
        for (int i = 0; i < n; i++) {
          s += b[i][j] * yw[i];
        }
        t[j] = s / d[j];
      }
      for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < n; j++) {
          s += b[i][j] * t[j];
        }
        cInvSqrtY[i] = s;
      }
    }
    double csn = Math.sqrt(cs * (2 - cs) * mueff);
    double psNorm2 = 0;
    for (int i = 0; i < n; i++) {
      ps[i] = (1 - cs) * ps[i] + csn * cInvSqrtY[i];
      psNorm2 += ps[i] * ps[i];
    }
    generation++;
    double psNorm = Math.sqrt(psNorm2);
    boolean hsig = psNorm / Math.sqrt(1 - Math.pow(1 - cs, 2.0 * generation)) / chiN < 1.4 + 2.0 / (n + 1);
    double ccn = Math.sqrt(cc * (2 - cc) * mueff);
    for (int i = 0; i < n; i++) {
      pc[i] = (1 - cc) * pc[i] + (hsig ? ccn * yw[i] : 0);
    }
    double oldFactor = 1 - c1 - cmu + (hsig ? 0 : c1 * cc * (2 - cc));
    double[][] y = new double[mu][n];
    for (int k = 0; k < mu; k++) {
      double[] x = pending[order[k]];
      for (int i = 0; i < n; i++) {
        y[k][i] = (x[i] - old[i]) / sigma;
      }
    }
    if (c == null) {
      for (int i = 0; i < n; i++) {
        double rankMu = 0;
        for (int k = 0; k < mu; k++) {
          rankMu += weights[k] * y[k][i] * y[k][i];
        }
        double ci = oldFactor * d[i] * d[i] + c1 * pc[i] * pc[i] + cmu * rankMu;
        d[i] = Math.sqrt(Math.max(ci, 1e-300));
      }
    } else {
      for (int i = 0; i < n; i++) {
        for (int j = 0; j <= i; j++) {
          double rankMu = 0;
          for (int k = 0; k < mu; k++) {
            rankMu += weights[k] * y[k][i] * y[k][j];
          }
          double v = oldFactor * c[i][j] + c1 * pc[i] * pc[j] + cmu * rankMu;
          c[i][j] = v;
          c[j][i] = v;
        }
      }
      evalsSinceEigen += lambda;
      if (evalsSinceEigen > lambda / (c1 + cmu) / n / 10) {
        evalsSinceEigen = 0;
        decompose();
      }
    }
    sigma *= Math.exp(Math.min(1, (cs / damps) * (psNorm / chiN - 1)));
    pending = null;
  }

  /** Starts again with λ doubled from a uniformly drawn mean (the start point when unbounded). */
  private void restart(SplittableRandom rng) {
    restartsDone++;
    double[] m = normalise(start);
    if (bounds != null) {
      for (int i = 0; i < n; i++) {
        m[i] = rng.nextDouble();
      }
    }
    init(lambda * 2, m);
  }

  /** Whether the search has stalled: σ tiny against the start, or an ill-conditioned covariance. */
  boolean degenerate() {
    double max = 0;
    double min = Double.MAX_VALUE;
    for (double x : d) {
      max = Math.max(max, x);
      min = Math.min(min, x);
    }
    return sigma * max < 1e-12 * options.sigma() || (min > 0 && max / min > 1e7) || !Double.isFinite(sigma);
  }

  /** Eigendecomposition of C (cyclic Jacobi), B's columns the eigenvectors, d the square roots of the eigenvalues. */
  private void decompose() {
    double[][] a = new double[n][];
    for (int i = 0; i < n; i++) {
      a[i] = c[i].clone();
    }
    double[][] v = identity(n);
    for (int sweep = 0; sweep < 100; sweep++) {
      double off = 0;
      for (int p = 0; p < n; p++) {
        for (int q = p + 1; q < n; q++) {
          off += a[p][q] * a[p][q];
        }
      }
      if (off < 1e-30) {
        break;
      }
      for (int p = 0; p < n; p++) {
        for (int q = p + 1; q < n; q++) {
          if (Math.abs(a[p][q]) < 1e-300) {
            continue;
          }
          double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
          double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
          if (theta == 0) {
            t = 1;
          }
          double cs0 = 1 / Math.sqrt(t * t + 1);
          double sn = t * cs0;
          for (int k = 0; k < n; k++) {
            double akp = a[k][p];
            double akq = a[k][q];
            a[k][p] = cs0 * akp - sn * akq;
            a[k][q] = sn * akp + cs0 * akq;
          }
          for (int k = 0; k < n; k++) {
            double apk = a[p][k];
            double aqk = a[q][k];
            a[p][k] = cs0 * apk - sn * aqk;
            a[q][k] = sn * apk + cs0 * aqk;
          }
          for (int k = 0; k < n; k++) {
            double vkp = v[k][p];
            double vkq = v[k][q];
            v[k][p] = cs0 * vkp - sn * vkq;
            v[k][q] = sn * vkp + cs0 * vkq;
          }
        }
      }
    }
    for (int i = 0; i < n; i++) {
      d[i] = Math.sqrt(Math.max(a[i][i], 1e-300));
    }
    b = v;
  }

  @Override
  public int nextBatch() {
    return degenerate() && restartsDone < options.restarts() ? lambda * 2 : lambda;
  }

  @Override
  public Optional<Evaluated> best() {
    return seen.best();
  }

  /** The last generation. */
  @Override
  public List<Evaluated> population() {
    return seen.last();
  }

  @Override
  public ObjectNode save(GenomeStore store) {
    ObjectNode s = States.JSON.createObjectNode();
    s.put("lambda", lambda);
    s.set("mean", States.doubles(mean));
    s.put("sigma", sigma);
    s.set("pc", States.doubles(pc));
    s.set("ps", States.doubles(ps));
    s.set("d", States.doubles(d));
    if (c != null) {
      s.set("c", States.matrix(c));
      s.set("b", States.matrix(b));
    }
    s.put("generation", generation);
    s.put("evals_since_eigen", evalsSinceEigen);
    s.put("restarts_done", restartsDone);
    seen.save(s, store);
    return s;
  }

  @Override
  public void restore(ObjectNode s, GenomeStore store) {
    init(s.get("lambda").asInt(), States.doubles(s.get("mean")));
    sigma = s.get("sigma").asDouble();
    pc = States.doubles(s.get("pc"));
    ps = States.doubles(s.get("ps"));
    d = States.doubles(s.get("d"));
    if (s.has("c")) {
      c = States.matrix(s.get("c"));
      b = States.matrix(s.get("b"));
    }
    generation = s.get("generation").asLong();
    evalsSinceEigen = s.get("evals_since_eigen").asLong();
    restartsDone = s.get("restarts_done").asInt();
    seen.restore(s, store);
  }
}
