package dev.graft.op;

import static dev.graft.op.ParamSpec.Scope.GLOBAL;
import static dev.graft.op.ParamSpec.Scope.PER_MODEL;

import dev.graft.tensor.Shape;
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
      double[] w = weights(in.modelParams());
      boolean normalize = in.global().bool("normalize");
      double sum = checkSum(in.tensor(), normalize, w);
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
        checkSum(in.tensor(), true, weights(in.modelParams()));
        acc = acc.mul(1.0 / total);
      }
      return acc.moveTo(scope);
    }
  }

  @Override
  public boolean streams(Shape shape, List<Params> modelParams, Params global) {
    return true;
  }

  @Override
  public void mergeStreamed(StreamedInputs in) {
    double[] w = weights(in.modelParams());
    boolean normalize = in.global().bool("normalize");
    double sum = checkSum(in.tensor(), normalize, w);
    FusedKernels.linear(in, w, normalize, 1.0 / sum);
  }

  private static double[] weights(List<Params> ps) {
    return ps.stream().mapToDouble(p -> p.number("weight")).toArray();
  }

  /** The weights' sum, checked when they are normalised by it. */
  private static double checkSum(String tensor, boolean normalize, double[] w) {
    double total = 0;
    for (double x : w) {
      total += x;
    }
    if (normalize && Math.abs(total) < 1e-8) {
      throw new IllegalArgumentException("tensor " + tensor + ": linear weights sum to " + total + "; cannot normalize (set normalize: false or change the weights)");
    }
    return total;
  }
}
