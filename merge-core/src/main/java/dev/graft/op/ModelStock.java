package dev.graft.op;

import static dev.graft.op.ParamSpec.Scope.GLOBAL;

import dev.graft.tensor.Shape;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;
import java.util.ArrayList;
import java.util.List;

/**
 * Model Stock (Jang et al. 2024, as in mergekit): with task vectors δᵢ of N ≥ 2 models, cos θ is the mean pairwise
 * cosine (norm products clamped at 1e-6, cosines to [−1, 1]); t = N·cos θ / (1 + (N−1)·cos θ);
 * θ* = t·mean(θᵢ) + (1−t)·θ₀. Over the flattened tensor, or per row with {@code filter_wise}.
 */
public final class ModelStock implements MergeOperator {
  private static final OperatorSpec SPEC =
      new OperatorSpec(
          "model_stock", "Model Stock", "https://arxiv.org/abs/2403.19522",
          "interpolates the average of fine-tunes toward the base by their task vectors' mutual angle",
          OperatorSpec.BaseUse.REQUIRED, 3, Integer.MAX_VALUE,
          List.of(ParamSpec.bool("filter_wise", GLOBAL, false, "one ratio per row instead of per tensor")));

  @Override
  public OperatorSpec spec() {
    return SPEC;
  }

  @Override
  public Tensor merge(MergeInputs in) {
    Tensor base = in.base();
    int n = in.models().size();
    if (n < 2) {
      throw new IllegalArgumentException("model_stock needs at least two models besides the base, found " + n);
    }
    TensorScope scope = in.scope();
    try (TensorScope tmp = scope.child("model-stock")) {
      List<Tensor> ms = new ArrayList<>();
      in.models().forEach(m -> ms.add(m.moveTo(tmp)));
      Shape shape = base.shape();
      if (in.global().bool("filter_wise") && shape.rank() >= 2) {
        return filterWise(base, ms, scope);
      }
      List<Tensor> deltas = ms.stream().map(m -> m.sub(base)).toList();
      double[] norms = deltas.stream().mapToDouble(Tensor::norm).toArray();
      double[][] dots = new double[n][n];
      for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
          dots[i][j] = deltas.get(i).dot(deltas.get(j));
        }
      }
      double t = ratio(norms, dots);
      Tensor avg = ms.get(0);
      for (int i = 1; i < n; i++) {
        avg = avg.add(ms.get(i));
      }
      return avg.mul(t / n).add(base.mul(1 - t)).moveTo(scope);
    }
  }

  /**
   * The ratio from the task vectors' norms and their dot products {@code dots[i][j]} (i &lt; j): the mean of the
   * pairwise cosines, each clamped to [-1, 1].
   */
  private static double ratio(double[] norms, double[][] dots) {
    int n = norms.length;
    double cos = 0;
    int pairs = 0;
    for (int i = 0; i < n; i++) {
      for (int j = i + 1; j < n; j++) {
        double c = dots[i][j] / Math.max(norms[i] * norms[j], 1e-6);
        cos += Math.max(-1, Math.min(1, c));
        pairs++;
      }
    }
    return ratio(n, cos / pairs);
  }

  static double ratio(int n, double cos) {
    return n * cos / (1 + (n - 1) * cos);
  }

  private static Tensor filterWise(Tensor base, List<Tensor> ms, TensorScope scope) {
    int cols = (int) base.shape().dim(base.shape().rank() - 1);
    float[] b = base.toFloatArray();
    float[][] xs = ms.stream().map(Tensor::toFloatArray).toArray(float[][]::new);
    float[] out = new float[b.length];
    for (int off = 0; off < b.length; off += cols) {
      filterRow(b, xs, off, cols, out);
    }
    return base.backend().fromFloats(scope, out, base.shape());
  }

  /** One row of {@code filter_wise}: its own ratio from the row's task vectors, written at the same offset of {@code out}. */
  private static void filterRow(float[] b, float[][] xs, int off, int cols, float[] out) {
    int n = xs.length;
    double[] norms = new double[n];
    double[][] dots = new double[n][n];
    for (int i = 0; i < n; i++) {
      double ii = 0;
      for (int k = off; k < off + cols; k++) {
        double di = xs[i][k] - b[k];
        ii += di * di;
      }
      norms[i] = Math.sqrt(ii);
      for (int j = i + 1; j < n; j++) {
        double dij = 0;
        for (int k = off; k < off + cols; k++) {
          double di = xs[i][k] - b[k];
          double dj = xs[j][k] - b[k];
          dij += di * dj;
        }
        dots[i][j] = dij;
      }
    }
    double t = ratio(norms, dots);
    for (int k = off; k < off + cols; k++) {
      double avg = 0;
      for (float[] x : xs) {
        avg += x[k];
      }
      out[k] = (float) (t * avg / n + (1 - t) * b[k]);
    }
  }

  @Override
  public boolean streams(Shape shape, List<Params> modelParams, Params global) {
    return modelParams.size() >= 2 && (shape.rank() < 2 || FusedKernels.rowFits(shape.dim(shape.rank() - 1)));
  }

  /**
   * Per tensor: the task vectors' norms and pairwise dot products in a first pass over windows (summed as the reference
   * backend sums), then the interpolation per window; {@code filter_wise}: windows of whole rows, each row on its own.
   */
  @Override
  public void mergeStreamed(StreamedInputs in) {
    int n = in.models();
    Shape shape = in.shape();
    if (in.global().bool("filter_wise") && shape.rank() >= 2) {
      int cols = (int) shape.dim(shape.rank() - 1);
      FusedKernels.rowWindows(in, cols, (b, xs, len, pos, out) -> {
        for (int off = 0; off < len; off += cols) {
          filterRow(b, xs, off, cols, out);
        }
      });
      return;
    }
    double[][] g = FusedKernels.deltaGram(in);
    double[] norms = new double[n];
    for (int i = 0; i < n; i++) {
      norms[i] = Math.sqrt(g[i][i]);
    }
    double t = ratio(norms, g); // the dot products are g's upper triangle
    float fa = (float) (t / n);
    float fb = (float) (1 - t);
    FusedKernels.rowWindows(in, 1, (b, xs, len, pos, out) -> {
      for (int k = 0; k < len; k++) {
        float avg = xs[0][k];
        for (int i = 1; i < n; i++) {
          avg = avg + xs[i][k];
        }
        out[k] = avg * fa + b[k] * fb;
      }
    });
  }
}
