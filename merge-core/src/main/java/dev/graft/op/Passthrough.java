package dev.graft.op;

import static dev.graft.op.ParamSpec.Scope.PER_MODEL;

import dev.graft.tensor.Tensor;
import java.util.List;

/** Copies one model's tensor (layer stacking through {@code slices}), optionally multiplied by {@code scale}. */
public final class Passthrough implements MergeOperator {
  private static final OperatorSpec SPEC =
      new OperatorSpec(
          "passthrough", "Passthrough", "https://github.com/arcee-ai/mergekit/blob/main/docs/merge_methods.md",
          "copies tensors unchanged; with slices, stacks layers of different models (frankenmerges)",
          OperatorSpec.BaseUse.UNUSED, 1, 1,
          List.of(ParamSpec.number("scale", PER_MODEL, -100, 100, 1.0, false, "factor applied to the copied tensor")));

  @Override
  public OperatorSpec spec() {
    return SPEC;
  }

  @Override
  public Tensor merge(MergeInputs in) {
    double s = in.modelParams().get(0).number("scale");
    Tensor m = in.models().get(0);
    return s == 1.0 ? m.moveTo(in.scope()) : m.mul(s).moveTo(in.scope());
  }
}
