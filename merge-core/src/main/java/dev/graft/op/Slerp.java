package dev.graft.op;

import static dev.graft.op.ParamSpec.Scope.GLOBAL;

import dev.graft.tensor.Shape;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;
import java.util.List;

/**
 * Spherical linear interpolation of two models over the whole flattened tensor (mergekit): t = 0 gives the base.
 * Angles come from the normalised tensors (norms ≤ 1e-8 are not normalised); when |cos θ| > 0.9995 (parallel or
 * anti-parallel) it falls back to linear interpolation; the weights sin((1−t)θ)/sin θ and sin(tθ)/sin θ are applied
 * to the unnormalised tensors.
 */
public final class Slerp implements MergeOperator {
  static final double DOT_THRESHOLD = 0.9995;
  private static final OperatorSpec SPEC =
      new OperatorSpec(
          "slerp", "SLERP", "https://en.wikipedia.org/wiki/Slerp",
          "spherical interpolation between two models; t = 0 is the base model", OperatorSpec.BaseUse.ONE_OF_INPUTS, 2, 2,
          List.of(ParamSpec.number("t", GLOBAL, 0, 1, null, true, "interpolation factor, 0 = base model, 1 = the other")));

  @Override
  public OperatorSpec spec() {
    return SPEC;
  }

  @Override
  public Tensor merge(MergeInputs in) {
    Tensor v0 = in.base();
    Tensor v1 = in.models().get(0) == v0 ? in.models().get(1) : in.models().get(0);
    double t = in.global().number("t");
    return slerp(t, v0, v1, in.scope());
  }

  /** SLERP of two tensors (result in {@code scope}). */
  static Tensor slerp(double t, Tensor v0, Tensor v1, TensorScope scope) {
    double[] s = weights(t, v0.norm(), v1.norm(), v0.dot(v1));
    if (v0.heapArray() != null && v1.heapArray() != null) {
      return v0.backend().adopt(scope, FusedKernels.combine(v0.heapArray(), s[0], v1.heapArray(), s[1]), v0.shape());
    }
    try (TensorScope tmp = scope.child("slerp")) {
      Tensor a = v0.mul(s[0]).moveTo(tmp);
      Tensor b = v1.mul(s[1]).moveTo(tmp);
      return a.add(b).moveTo(scope);
    }
  }

  /** The weights {s0, s1} of the base and the other model, from their norms and their dot product. */
  private static double[] weights(double t, double n0, double n1, double dot) {
    double cos = dot / ((n0 > 1e-8 ? n0 : 1) * (n1 > 1e-8 ? n1 : 1));
    if (Math.abs(cos) > DOT_THRESHOLD || Double.isNaN(cos)) {
      return new double[] {1 - t, t};
    }
    double theta = Math.acos(cos);
    double sin = Math.sin(theta);
    return new double[] {Math.sin((1 - t) * theta) / sin, Math.sin(t * theta) / sin};
  }

  @Override
  public boolean streams(Shape shape, List<Params> modelParams, Params global) {
    return true;
  }

  /** Norms and dot product in a first pass over windows (summed as the reference backend sums), then the combination. */
  @Override
  public void mergeStreamed(StreamedInputs in) {
    int i0 = in.baseIndex(); // the base is one of the two models
    if (i0 < 0) {
      throw new IllegalStateException("slerp of " + in.tensor() + ": the base is not one of the two models");
    }
    int i1 = 1 - i0;
    double[] sums = FusedKernels.normsAndDot(in, i0, i1);
    double[] s = weights(in.global().number("t"), Math.sqrt(sums[0]), Math.sqrt(sums[1]), sums[2]);
    float f0 = (float) s[0];
    float f1 = (float) s[1];
    FusedKernels.rowWindows(in, 1, (b, xs, len, pos, out) -> FusedKernels.combine(xs[i0], f0, xs[i1], f1, 0, len, out));
  }
}
