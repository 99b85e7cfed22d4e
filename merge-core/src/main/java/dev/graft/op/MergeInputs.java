package dev.graft.op;

import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;
import dev.graft.tensor.spi.Backend;
import java.util.List;
import java.util.Objects;

/**
 * Everything one operator call sees for one output tensor.
 *
 * @param tensor the output tensor's name (for messages and seeds)
 * @param base the base model's tensor, or null when the operator does not use one
 * @param models the merged models' tensors, in recipe order; for operators with {@link OperatorSpec.BaseUse#REQUIRED}
 *     the base is not among them
 * @param modelParams resolved per-model parameters, aligned with {@code models}
 * @param global resolved global parameters
 * @param fishers diagonal Fisher tensors aligned with {@code models} (the {@code fisher} operator), else empty
 * @param seed this tensor's seed, derived from the run seed and the tensor name
 * @param backend the backend to create tensors on
 * @param scope the scope that owns the result and every temporary
 */
public record MergeInputs(
    String tensor, Tensor base, List<Tensor> models, List<Params> modelParams, Params global, List<Tensor> fishers,
    long seed, Backend backend, TensorScope scope) {
  public MergeInputs {
    Objects.requireNonNull(tensor, "tensor");
    models = List.copyOf(models);
    modelParams = List.copyOf(modelParams);
    fishers = List.copyOf(fishers);
    if (models.size() != modelParams.size()) {
      throw new IllegalArgumentException(models.size() + " model tensors but " + modelParams.size() + " parameter sets");
    }
  }

  /** The seed of model {@code i}'s random draws for this tensor. */
  public long seed(int i) {
    return dev.graft.tensor.spi.SeededMasks.mix(seed, i);
  }
}
