package dev.graft.op;

import static dev.graft.op.ParamSpec.Scope.GLOBAL;

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
    double n0 = v0.norm();
    double n1 = v1.norm();
    double dot = v0.dot(v1) / ((n0 > 1e-8 ? n0 : 1) * (n1 > 1e-8 ? n1 : 1));
    double s0;
    double s1;
    if (Math.abs(dot) > DOT_THRESHOLD || Double.isNaN(dot)) {
      s0 = 1 - t;
      s1 = t;
    } else {
      double theta = Math.acos(dot);
      double sin = Math.sin(theta);
      s0 = Math.sin((1 - t) * theta) / sin;
      s1 = Math.sin(t * theta) / sin;
    }
    if (v0.heapArray() != null && v1.heapArray() != null) {
      return v0.backend().adopt(scope, FusedKernels.combine(v0.heapArray(), s0, v1.heapArray(), s1), v0.shape());
    }
    try (TensorScope tmp = scope.child("slerp")) {
      Tensor a = v0.mul(s0).moveTo(tmp);
      Tensor b = v1.mul(s1).moveTo(tmp);
      return a.add(b).moveTo(scope);
    }
  }
}
