package dev.graft.op;

import static dev.graft.op.ParamSpec.Scope.GLOBAL;
import static dev.graft.op.ParamSpec.Scope.PER_MODEL;

import dev.graft.tensor.Shape;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;
import java.util.List;

/**
 * mergekit's {@code nuslerp}: SLERP of two models with t = w₂/(w₁+w₂) (0.5 when the sum is ≈ 0); with a base model,
 * of their task vectors, the base added back. Angles over the flattened tensor (default), per row
 * ({@code nuslerp_row_wise}) or per column; |sin θ| < 1e-8 falls back to linear interpolation; norms clamped at 1e-7.
 */
public final class NuSlerp implements MergeOperator {
  private static final OperatorSpec SPEC =
      new OperatorSpec(
          "nuslerp", "NuSLERP", "https://github.com/arcee-ai/mergekit/blob/main/docs/merge_methods.md",
          "SLERP with relative weights, optionally of task vectors and per row or column", OperatorSpec.BaseUse.OPTIONAL, 2, 2,
          List.of(
              ParamSpec.number("weight", PER_MODEL, -100, 100, null, true, "relative weight; t = w2 / (w1 + w2)"),
              ParamSpec.bool("nuslerp_flatten", GLOBAL, true, "one angle for the whole tensor"),
              ParamSpec.bool("nuslerp_row_wise", GLOBAL, false, "when not flattened: one angle per row (else per column)")));

  @Override
  public OperatorSpec spec() {
    return SPEC;
  }

  @Override
  public Tensor merge(MergeInputs in) {
    double t = t(in.modelParams());
    TensorScope scope = in.scope();
    try (TensorScope tmp = scope.child("nuslerp")) {
      Tensor v0 = in.models().get(0).moveTo(tmp);
      Tensor v1 = in.models().get(1).moveTo(tmp);
      if (in.base() != null) {
        v0 = v0.sub(in.base());
        v1 = v1.sub(in.base());
      }
      Tensor r;
      Shape shape = v0.shape();
      if (in.global().bool("nuslerp_flatten") || shape.rank() < 2) {
        r = interpolate(t, v0, v1, 1, (int) shape.numel(), 1, true);
      } else {
        int cols = (int) shape.dim(shape.rank() - 1);
        int rows = (int) (shape.numel() / cols);
        boolean rowWise = in.global().bool("nuslerp_row_wise");
        r = interpolate(t, v0, v1, rowWise ? rows : cols, rowWise ? cols : rows, cols, rowWise);
      }
      if (in.base() != null) {
        r = r.add(in.base());
      }
      return r.moveTo(scope);
    }
  }

  /**
   * Interpolates {@code vectors} vectors of {@code len} entries each; entries of a row-wise vector are contiguous,
   * of a column-wise one strided by {@code cols}.
   */
  private static Tensor interpolate(double t, Tensor a, Tensor b, int vectors, int len, int cols, boolean contiguous) {
    if (vectors == 1) {
      double na = Math.max(a.norm(), 1e-7);
      double nb = Math.max(b.norm(), 1e-7);
      double[] w = weights(t, a.dot(b) / (na * nb));
      return a.mul(w[0]).add(b.mul(w[1]));
    }
    float[] x = a.toFloatArray();
    float[] y = b.toFloatArray();
    float[] out = new float[x.length];
    for (int v = 0; v < vectors; v++) {
      vector(t, x, y, contiguous ? v * len : v, len, contiguous ? 1 : cols, out);
    }
    return a.backend().fromFloats(a.scope(), out, a.shape());
  }

  /**
   * One vector of {@code len} entries from index {@code start}, {@code stride} apart: its own angle from its sums, and
   * {@code out[i] = (float) (w0·x[i] + w1·y[i])}.
   */
  private static void vector(double t, float[] x, float[] y, int start, int len, int stride, float[] out) {
    double xx = 0;
    double yy = 0;
    double xy = 0;
    for (int k = 0, i = start; k < len; k++, i += stride) {
      xx += (double) x[i] * x[i];
      yy += (double) y[i] * y[i];
      xy += (double) x[i] * y[i];
    }
    double[] w = weightsFromSums(t, xx, yy, xy);
    for (int k = 0, i = start; k < len; k++, i += stride) {
      out[i] = (float) (w[0] * x[i] + w[1] * y[i]);
    }
  }

  @Override
  public boolean streams(Shape shape, List<Params> modelParams, Params global) {
    return shape.rank() < 2 || FusedKernels.rowFits(shape.dim(shape.rank() - 1));
  }

  /**
   * Flattened: norms and dot product in a first pass over windows (summed as the reference backend sums), then the
   * combination per window. Per row: windows of whole rows, each row on its own. Per column: the column sums in one pass
   * over the rows in order (on one thread: the order is the whole path's), then the combination per window.
   */
  @Override
  public void mergeStreamed(StreamedInputs in) {
    double t = t(in.modelParams());
    Shape shape = in.shape();
    if (in.global().bool("nuslerp_flatten") || shape.rank() < 2) {
      double[] s = FusedKernels.normsAndDot(in, 0, 1);
      double[] w = weightsFromSums(t, s[0], s[1], s[2]);
      float f0 = (float) w[0];
      float f1 = (float) w[1];
      FusedKernels.rowWindows(in, 1, (b, xs, len, pos, out) -> {
        FusedKernels.lessBase(b, xs, len);
        FusedKernels.combine(xs[0], f0, xs[1], f1, 0, len, out);
        plusBase(b, len, out);
      });
      return;
    }
    int cols = (int) shape.dim(shape.rank() - 1);
    if (in.global().bool("nuslerp_row_wise")) {
      FusedKernels.rowWindows(in, cols, (b, xs, len, pos, out) -> {
        FusedKernels.lessBase(b, xs, len);
        for (int off = 0; off < len; off += cols) {
          vector(t, xs[0], xs[1], off, cols, 1, out);
        }
        plusBase(b, len, out);
      });
      return;
    }
    double[][] sums = new double[3][cols];
    FusedKernels.rowsInOrder(in, cols, (b, xs, len) -> {
      FusedKernels.lessBase(b, xs, len);
      for (int i = 0; i < len; i++) {
        int c = i % cols;
        float x = xs[0][i];
        float y = xs[1][i];
        sums[0][c] += (double) x * x;
        sums[1][c] += (double) y * y;
        sums[2][c] += (double) x * y;
      }
    });
    double[][] w = new double[cols][];
    for (int c = 0; c < cols; c++) {
      w[c] = weightsFromSums(t, sums[0][c], sums[1][c], sums[2][c]);
    }
    FusedKernels.rowWindows(in, cols, (b, xs, len, pos, out) -> {
      FusedKernels.lessBase(b, xs, len);
      for (int i = 0; i < len; i++) {
        double[] wc = w[i % cols];
        out[i] = (float) (wc[0] * xs[0][i] + wc[1] * xs[1][i]);
      }
      plusBase(b, len, out);
    });
  }

  /** The base added back (in float, as {@code r.add(base)}) when the interpolation was of task vectors. */
  private static void plusBase(float[] b, int len, float[] out) {
    if (b != null) {
      for (int i = 0; i < len; i++) {
        out[i] = out[i] + b[i];
      }
    }
  }

  /** The interpolation point from the two models' weights: {@code w1 / (w0 + w1)}, 0.5 when they sum to zero. */
  private static double t(List<Params> modelParams) {
    double w0 = modelParams.get(0).number("weight");
    double w1 = modelParams.get(1).number("weight");
    return Math.abs(w0 + w1) < 1e-8 ? 0.5 : w1 / (w0 + w1);
  }

  /** {@link #weights} from Σ x², Σ y² and Σ x·y (norms clamped at 1e-7). */
  private static double[] weightsFromSums(double t, double xx, double yy, double xy) {
    return weights(t, xy / (Math.max(Math.sqrt(xx), 1e-7) * Math.max(Math.sqrt(yy), 1e-7)));
  }

  private static double[] weights(double t, double cos) {
    double theta = Math.acos(Math.max(-1, Math.min(1, cos)));
    double sin = Math.sin(theta);
    if (Math.abs(sin) < 1e-8) {
      return new double[] {1 - t, t};
    }
    return new double[] {Math.sin((1 - t) * theta) / sin, Math.sin(t * theta) / sin};
  }
}
