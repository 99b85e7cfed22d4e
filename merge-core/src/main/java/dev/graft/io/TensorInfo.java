package dev.graft.io;

import dev.graft.tensor.DType;
import dev.graft.tensor.Shape;
import java.util.Objects;

/**
 * One tensor's entry in a safetensors header.
 *
 * @param name tensor name
 * @param dtype element type
 * @param shape shape (0-d allowed)
 * @param begin first byte, relative to the start of the data area
 * @param end one past the last byte, relative to the start of the data area
 */
public record TensorInfo(String name, DType dtype, Shape shape, long begin, long end) {
  public TensorInfo {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dtype, "dtype");
    Objects.requireNonNull(shape, "shape");
  }

  /** Bytes of data: {@code end - begin}. */
  public long byteSize() {
    return end - begin;
  }

  public long numel() {
    return shape.numel();
  }
}
