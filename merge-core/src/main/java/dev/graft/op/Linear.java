package dev.graft.op;

import static dev.graft.op.ParamSpec.Scope.GLOBAL;
import static dev.graft.op.ParamSpec.Scope.PER_MODEL;

import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;
import java.util.List;

/** Weighted average: θ* = Σ wᵢθᵢ / Σ wᵢ ({@code normalize}, default on) or Σ wᵢθᵢ. */
public final class Linear implements MergeOperator {
  private static final OperatorSpec SPEC =
      new OperatorSpec(
          "linear", "Linear (weighted average)", "https://arxiv.org/abs/2203.05482",
          "weighted average of the models' weights (model soups)", OperatorSpec.BaseUse.UNUSED, 1, Integer.MAX_VALUE,
          List.of(
              ParamSpec.number("weight", PER_MODEL, -100, 100, null, true, "the model's weight"),
              ParamSpec.bool("normalize", GLOBAL, true, "divide by the sum of weights")));

  @Override
  public OperatorSpec spec() {
    return SPEC;
  }

  @Override
  public Tensor merge(MergeInputs in) {
    TensorScope scope = in.scope();
    float[][] heap = FusedKernels.heap(in.models());
    if (heap != null) {
      double[] w = new double[heap.length];
      double sum = 0;
      for (int i = 0; i < w.length; i++) {
        w[i] = in.modelParams().get(i).number("weight");
        sum += w[i];
      }
      boolean normalize = in.global().bool("normalize");
      checkSum(in, normalize, sum);
      return in.backend().adopt(scope, FusedKernels.linear(heap, w, normalize, 1.0 / sum), in.models().get(0).shape());
    }
    double total = 0;
    Tensor acc = null;
    try (TensorScope t = scope.child("linear")) {
      for (int i = 0; i < in.models().size(); i++) {
        double w = in.modelParams().get(i).number("weight");
        total += w;
        Tensor term = in.models().get(i).moveTo(t).mul(w);
        acc = acc == null ? term : acc.add(term);
      }
      if (in.global().bool("normalize")) {
        checkSum(in, true, total);
        acc = acc.mul(1.0 / total);
      }
      return acc.moveTo(scope);
    }
  }

  private static void checkSum(MergeInputs in, boolean normalize, double total) {
    if (normalize && Math.abs(total) < 1e-8) {
      throw new IllegalArgumentException("tensor " + in.tensor() + ": linear weights sum to " + total + "; cannot normalize (set normalize: false or change the weights)");
    }
  }
}
