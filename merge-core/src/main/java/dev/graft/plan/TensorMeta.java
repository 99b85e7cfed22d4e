package dev.graft.plan;

import dev.graft.tensor.DType;
import dev.graft.tensor.Shape;

/** A tensor's storage dtype and shape, as a header declares it. */
public record TensorMeta(DType dtype, Shape shape) {}
