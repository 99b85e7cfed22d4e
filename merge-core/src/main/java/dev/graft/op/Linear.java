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
        if (Math.abs(total) < 1e-8) {
          throw new IllegalArgumentException("tensor " + in.tensor() + ": linear weights sum to " + total + "; cannot normalize (set normalize: false or change the weights)");
        }
        acc = acc.mul(1.0 / total);
      }
      return acc.moveTo(scope);
    }
  }
}
