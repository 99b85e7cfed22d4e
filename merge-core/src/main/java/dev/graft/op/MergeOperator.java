package dev.graft.op;

import dev.graft.tensor.Shape;
import dev.graft.tensor.Tensor;
import java.util.List;

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

  /**
   * Whether {@link #mergeStreamed} can merge a tensor of this shape with these parameters (on the CPU, as the
   * reference backend computes). Decided from the parameters only, before any data is read; asked only for tensors
   * of at most {@code Integer.MAX_VALUE - 8} elements (streamed positions are ints).
   */
  default boolean streams(Shape shape, List<Params> modelParams, Params global) {
    return false;
  }

  /**
   * Merges one tensor a range of entries at a time, reading the inputs from {@code in}'s source and writing the result
   * to its sink: exactly the floats {@link #merge} computes on the reference backend, in memory bounded by a few
   * windows per thread. Only called when {@link #streams} said yes.
   */
  default void mergeStreamed(StreamedInputs in) {
    throw new UnsupportedOperationException(spec().name() + " does not merge in streams");
  }
}
