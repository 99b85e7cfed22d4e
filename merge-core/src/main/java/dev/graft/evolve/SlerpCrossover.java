package dev.graft.evolve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.SplittableRandom;

/**
 * M2N2's crossover (algorithms.md §2.5): a split point {@code k ~ U{0, n-1}} and a mixing ratio {@code w ~ U(0, 1)};
 * element {@code i} is SLERP-ed with {@code t = w} before the split point and {@code t = 1 - w} from it on, the
 * angle {@code ω} taken once from the whole flattened parents; plain linear interpolation when {@code sin ω <= 1e-6}
 * (also when a parent is all zeros). Without a split point, every element uses {@code t = w} (the paper's ablation).
 * Gene vectors are clamped to their bounds afterwards.
 */
public final class SlerpCrossover implements Crossover {
  private final boolean splitPoint;
  private final Bounds bounds;

  /**
   * @param splitPoint whether to draw a split point
   * @param bounds bounds of gene vectors, or null (weights are unbounded)
   */
  public SlerpCrossover(boolean splitPoint, Bounds bounds) {
    this.splitPoint = splitPoint;
    this.bounds = bounds;
  }

  @Override
  public String name() {
    return splitPoint ? "slerp_split" : "slerp";
  }

  @Override
  public void draw(int n, SplittableRandom rng, ObjectNode origin) {
    int k = splitPoint ? rng.nextInt(n) : n;
    double w = rng.nextDouble();
    origin.put("crossover", name());
    if (splitPoint) {
      origin.put("split", k);
    }
    origin.put("ratio", w);
  }

  @Override
  public Genome apply(Genome a, Genome b, JsonNode origin) {
    int n = a.size();
    if (b.size() != n) {
      throw new IllegalArgumentException("parents of different sizes: " + n + " and " + b.size());
    }
    int k = splitPoint ? origin.get("split").asInt() : n;
    double w = origin.get("ratio").asDouble();
    return switch (a) {
      case Genome.Flat fa -> {
        float[] x = fa.values();
        float[] y = ((Genome.Flat) b).values();
        double[] c = coefficients(dot(x, y), norm2(x), norm2(y), w);
        float[] out = new float[n];
        float c0 = (float) c[0], c1 = (float) c[1], c2 = (float) c[2], c3 = (float) c[3];
        for (int i = 0; i < k; i++) {
          out[i] = c0 * x[i] + c1 * y[i];
        }
        for (int i = k; i < n; i++) {
          out[i] = c2 * x[i] + c3 * y[i];
        }
        yield new Genome.Flat(out);
      }
      case Genome.Genes ga -> {
        double[] x = ga.values();
        double[] y = ((Genome.Genes) b).values();
        double d = 0, nx = 0, ny = 0;
        for (int i = 0; i < n; i++) {
          d += x[i] * y[i];
          nx += x[i] * x[i];
          ny += y[i] * y[i];
        }
        double[] c = coefficients(d, nx, ny, w);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
          out[i] = i < k ? c[0] * x[i] + c[1] * y[i] : c[2] * x[i] + c[3] * y[i];
        }
        yield new Genome.Genes(bounds == null ? out : bounds.clamp(out));
      }
    };
  }

  /**
   * The SLERP coefficients of x and y for t = w (first two) and t = 1 - w (last two).
   *
   * @param dot x·y
   * @param nx |x|²
   * @param ny |y|²
   */
  static double[] coefficients(double dot, double nx, double ny, double w) {
    double cos = nx > 0 && ny > 0 ? dot / Math.sqrt(nx * ny) : 1;
    double omega = Math.acos(Math.max(-1, Math.min(1, cos)));
    double s = Math.sin(omega);
    if (!(s > 1e-6)) {
      return new double[] {1 - w, w, w, 1 - w};
    }
    return new double[] {
      Math.sin((1 - w) * omega) / s, Math.sin(w * omega) / s, Math.sin(w * omega) / s, Math.sin((1 - w) * omega) / s
    };
  }

  private static double dot(float[] x, float[] y) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      s += (double) x[i] * y[i];
    }
    return s;
  }

  private static double norm2(float[] x) {
    return dot(x, x);
  }
}
