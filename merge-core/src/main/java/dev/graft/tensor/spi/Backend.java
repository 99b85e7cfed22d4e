package dev.graft.tensor.spi;

import dev.graft.io.MappedTensor;
import dev.graft.tensor.Device;
import dev.graft.tensor.Shape;
import dev.graft.tensor.Tensor;
import dev.graft.tensor.TensorScope;

/**
 * A tensor engine on one device. Create tensors through it; operate on them through {@link Tensor}.
 *
 * @implNote implementations are thread-safe.
 */
public interface Backend extends AutoCloseable {
  /** Short name: {@code reference}, {@code djl}, {@code nd4j}. */
  String name();

  Device device();

  /** A tensor holding a copy of {@code data} (row-major). */
  Tensor fromFloats(TensorScope scope, float[] data, Shape shape);

  /**
   * Checks that {@code data} fills {@code shape} exactly (for implementations of {@link #fromFloats}).
   *
   * @throws IllegalArgumentException naming both sizes
   */
  static void checkFills(float[] data, Shape shape) {
    if (data.length != shape.numel()) {
      throw new IllegalArgumentException(data.length + " values do not fill shape " + shape + " (" + shape.numel() + " elements)");
    }
  }

  /**
   * A tensor made from {@code data}, which the caller hands over and must not use afterwards: backends that keep heap
   * arrays take it without a copy.
   */
  default Tensor adopt(TensorScope scope, float[] data, Shape shape) {
    return fromFloats(scope, data, shape);
  }

  default Tensor zeros(TensorScope scope, Shape shape) {
    return fromFloats(scope, new float[shape.numelInt()], shape);
  }

  default Tensor full(TensorScope scope, Shape shape, float value) {
    float[] d = new float[shape.numelInt()];
    java.util.Arrays.fill(d, value);
    return fromFloats(scope, d, shape);
  }

  /**
   * A Bernoulli(p) mask of 0 and 1. Element i depends only on (seed, i), never on the backend, thread count or
   * call order: the draw is a SplitMix64 hash of seed and index, made in Java and uploaded.
   */
  default Tensor bernoulli(TensorScope scope, Shape shape, double p, long seed) {
    return fromFloats(scope, SeededMasks.bernoulli(shape.numelInt(), p, seed), shape);
  }

  /** Loads a mapped tensor (decoded from its storage dtype to float32 in Java). */
  default Tensor load(TensorScope scope, MappedTensor mapped) {
    return adopt(scope, mapped.toFloatArray(), mapped.count() == mapped.info().numel() ? mapped.info().shape() : Shape.of(mapped.count()));
  }

  /** Releases the backend's own resources (not the tensors, which their scopes own). */
  @Override
  default void close() {}
}
