package dev.graft.plan;

import dev.graft.op.Params;
import dev.graft.tensor.DType;
import dev.graft.tensor.Shape;
import java.util.List;

/**
 * One output tensor: which input tensors the operator gets and with which resolved parameters.
 *
 * @param name output tensor name
 * @param shape output shape
 * @param outDtype storage dtype of the output
 * @param copy when non-null the tensor is copied byte for byte from this input (integer and bool tensors)
 * @param base the base model's tensor, or null
 * @param models the merged models' tensors (for base-using operators without the base)
 * @param baseIndex index in {@code models} that is the base (SLERP), or -1
 * @param modelParams per-model parameters aligned with {@code models}
 * @param global global parameters
 * @param fishers Fisher tensors aligned with {@code models} (index into the plan's Fisher files), or empty
 * @param fillBase where missing vocabulary rows come from first (the base model), or null
 */
public record TensorTask(
    String name, Shape shape, DType outDtype, Input copy, Input base, List<Input> models, int baseIndex,
    List<Params> modelParams, Params global, List<Input> fishers, Input fillBase) {

  public TensorTask {
    models = List.copyOf(models);
    modelParams = List.copyOf(modelParams);
    fishers = List.copyOf(fishers);
  }

  /**
   * A tensor of a model ({@code model} indexes the plan's models, or its Fisher files for Fisher inputs).
   *
   * @param rows for a vocabulary tensor under {@code tokenizer_source: union}: this input's row for each output row,
   *     or -1 where the model lacks the token; null otherwise
   */
  public record Input(int model, String tensor, Shape shape, int[] rows) {
    public Input(int model, String tensor, Shape shape) {
      this(model, tensor, shape, null);
    }

    Input withRows(int[] r) {
      return new Input(model, tensor, shape, r);
    }
  }

  /** Whether inputs have other row counts than the output, or rows matched by token (vocabulary rows added or dropped). */
  public boolean rectifiesRows() {
    return models.stream().anyMatch(i -> !i.shape().equals(shape) || i.rows() != null) || (base != null && (!base.shape().equals(shape) || base.rows() != null));
  }

  /** Whether rows are matched by token ({@code tokenizer_source: union}). */
  public boolean unionRows() {
    return models.stream().anyMatch(i -> i.rows() != null) || (base != null && base.rows() != null);
  }

  /** Every input read, base first. */
  public List<Input> reads() {
    java.util.ArrayList<Input> r = new java.util.ArrayList<>();
    if (copy != null) {
      r.add(copy);
      return r;
    }
    if (base != null) {
      r.add(base);
    }
    r.addAll(models);
    return r;
  }
}
