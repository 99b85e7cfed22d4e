package dev.graft.data;

import dev.graft.tensor.spi.SeededMasks;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Procedurally drawn handwritten-like digits, so that demos and tests run offline: ten digit shapes made of stroke
 * templates (polylines), each example drawn with a random affine map (rotation, scale, shear, translation),
 * per-point jitter, a random stroke width and pixel noise.
 *
 * <p>{@code 8x8} images imitate UCI optdigits: drawn on a 32x32 bitmap, then each 4x4 block's count of ink pixels
 * (0..16) divided by 16. {@code 28x28} images imitate MNIST: grey levels in [0, 1], the digit in the central 20x20.
 * Example {@code i} of seed {@code s} depends only on (s, i), never on how many are generated.
 */
public final class ProceduralDigits {
  private static final double[][][] STROKES = new double[10][][];

  static {
    STROKES[0] = new double[][] {ellipse(0.5, 0.5, 0.27, 0.38, 14)};
    STROKES[1] = new double[][] {{0.35, 0.25, 0.52, 0.1, 0.52, 0.9}};
    STROKES[2] = new double[][] {{0.25, 0.3, 0.33, 0.15, 0.52, 0.09, 0.7, 0.17, 0.72, 0.36, 0.25, 0.9, 0.78, 0.9}};
    STROKES[3] = new double[][] {{0.25, 0.14, 0.72, 0.14, 0.45, 0.44, 0.68, 0.56, 0.72, 0.76, 0.55, 0.9, 0.25, 0.85}};
    STROKES[4] = new double[][] {{0.64, 0.9, 0.64, 0.1, 0.2, 0.64, 0.82, 0.64}};
    STROKES[5] = new double[][] {{0.75, 0.1, 0.32, 0.1, 0.28, 0.46, 0.58, 0.42, 0.75, 0.6, 0.7, 0.82, 0.5, 0.9, 0.26, 0.84}};
    STROKES[6] = new double[][] {{0.7, 0.1, 0.42, 0.28, 0.28, 0.58, 0.34, 0.85, 0.58, 0.9, 0.73, 0.72, 0.6, 0.52, 0.33, 0.58}};
    STROKES[7] = new double[][] {{0.2, 0.12, 0.8, 0.12, 0.44, 0.9}, {0.36, 0.5, 0.66, 0.5}};
    STROKES[8] = new double[][] {ellipse(0.5, 0.3, 0.2, 0.19, 12), ellipse(0.5, 0.69, 0.25, 0.21, 12)};
    STROKES[9] = new double[][] {ellipse(0.48, 0.32, 0.22, 0.21, 12), {0.7, 0.34, 0.62, 0.9}};
  }

  private ProceduralDigits() {}

  private static double[] ellipse(double cx, double cy, double rx, double ry, int n) {
    double[] p = new double[2 * (n + 1)];
    for (int i = 0; i <= n; i++) {
      double a = 2 * Math.PI * i / n;
      p[2 * i] = cx + rx * Math.sin(a);
      p[2 * i + 1] = cy - ry * Math.cos(a);
    }
    return p;
  }

  /**
   * {@code n} examples of size {@code 8} (optdigits-like, {@code [1, 8, 8]}) or {@code 28} (MNIST-like,
   * {@code [1, 28, 28]}), labels drawn uniformly from 0..9.
   */
  public static Dataset generate(int size, int n, long seed) {
    if (size != 8 && size != 28) {
      throw new IllegalArgumentException("procedural digits come in size 8 or 28, not " + size);
    }
    float[] x = new float[n * size * size];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      SplittableRandom r = new SplittableRandom(SeededMasks.mix(seed, i));
      y[i] = r.nextInt(10);
      float[] img = size == 8 ? optdigit(y[i], r) : mnistLike(y[i], r);
      System.arraycopy(img, 0, x, i * size * size, img.length);
    }
    return new Dataset("procedural-digits-" + size + "x" + size + "(seed=" + seed + ")", new int[] {1, size, size}, x, y, 10);
  }

  private static float[] optdigit(int digit, SplittableRandom r) {
    float[] big = draw(digit, r, 32, 0.05, 0.95);
    float[] out = new float[64];
    for (int by = 0; by < 8; by++) {
      for (int bx = 0; bx < 8; bx++) {
        int ink = 0;
        for (int y = 0; y < 4; y++) {
          for (int x = 0; x < 4; x++) {
            ink += big[(by * 4 + y) * 32 + bx * 4 + x] > 0.5f ? 1 : 0;
          }
        }
        out[by * 8 + bx] = ink / 16f;
      }
    }
    return out;
  }

  private static float[] mnistLike(int digit, SplittableRandom r) {
    float[] img = draw(digit, r, 28, 4 / 28.0, 24 / 28.0);
    for (int i = 0; i < img.length; i++) {
      double v = img[i] + 0.04 * gaussian(r);
      img[i] = (float) Math.max(0, Math.min(1, v));
    }
    return img;
  }

  /** Renders a digit into a {@code res x res} grey image, the unit square mapped onto [lo, hi] of the image. */
  private static float[] draw(int digit, SplittableRandom r, int res, double lo, double hi) {
    double angle = Math.toRadians(10 * gaussian(r));
    double scale = 0.8 + 0.3 * r.nextDouble();
    double shear = 0.15 * gaussian(r);
    double tx = 0.05 * gaussian(r);
    double ty = 0.05 * gaussian(r);
    double width = 0.07 + 0.06 * r.nextDouble();
    double cos = Math.cos(angle);
    double sin = Math.sin(angle);
    List<double[]> segs = new ArrayList<>();
    for (double[] stroke : STROKES[digit]) {
      double[] p = new double[stroke.length];
      for (int k = 0; k < stroke.length; k += 2) {
        double u = stroke[k] - 0.5 + 0.02 * gaussian(r);
        double v = stroke[k + 1] - 0.5 + 0.02 * gaussian(r);
        u += shear * v;
        double xu = scale * (cos * u - sin * v) + 0.5 + tx;
        double yv = scale * (sin * u + cos * v) + 0.5 + ty;
        p[k] = lo + (hi - lo) * xu;
        p[k + 1] = lo + (hi - lo) * yv;
      }
      for (int k = 0; k + 3 < p.length; k += 2) {
        segs.add(new double[] {p[k], p[k + 1], p[k + 2], p[k + 3]});
      }
    }
    double half = width * (hi - lo) / 2;
    double soft = 0.7 / res; // anti-aliasing ramp of about one pixel
    float[] img = new float[res * res];
    for (int py = 0; py < res; py++) {
      for (int px = 0; px < res; px++) {
        double x = (px + 0.5) / res;
        double y = (py + 0.5) / res;
        double d = Double.MAX_VALUE;
        for (double[] s : segs) {
          d = Math.min(d, distance(x, y, s));
        }
        img[py * res + px] = (float) Math.max(0, Math.min(1, (half + soft - d) / (2 * soft)));
      }
    }
    return img;
  }

  private static double distance(double x, double y, double[] s) {
    double dx = s[2] - s[0];
    double dy = s[3] - s[1];
    double len2 = dx * dx + dy * dy;
    double t = len2 == 0 ? 0 : Math.max(0, Math.min(1, ((x - s[0]) * dx + (y - s[1]) * dy) / len2));
    double ex = s[0] + t * dx - x;
    double ey = s[1] + t * dy - y;
    return Math.sqrt(ex * ex + ey * ey);
  }

  private static double gaussian(SplittableRandom r) {
    double u1 = r.nextDouble();
    double u2 = r.nextDouble();
    return Math.sqrt(-2 * Math.log1p(-u1)) * Math.cos(2 * Math.PI * u2);
  }
}
