package dev.graft.op;

import dev.graft.tensor.Tensor;

/**
 * A merge operator: a pure function from input tensors and resolved parameters to one output tensor.
 *
 * <p>Implementations compute in float32 through the tensor layer (so they run on every backend), allocate in
 * {@link MergeInputs#scope()}, and draw random numbers only from {@link MergeInputs#seed(int)}.
 */
public interface MergeOperator {
  OperatorSpec spec();

  /**
   * Merges one tensor.
   *
   * @throws IllegalArgumentException when parameters are out of range for this tensor (the message names it)
   */
  Tensor merge(MergeInputs in);
}
