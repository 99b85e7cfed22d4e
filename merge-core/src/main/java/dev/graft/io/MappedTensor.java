package dev.graft.io;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A read-only memory mapping of a tensor, or of a contiguous run of its elements. Closing it unmaps the bytes
 * deterministically; using it afterwards throws {@link IllegalStateException}.
 *
 * @implNote may be read from several threads; close it once, from any thread.
 */
public final class MappedTensor implements AutoCloseable {
  private final TensorInfo info;
  private final long first;
  private final long count;
  private final MemorySegment segment;
  private final Arena arena;

  MappedTensor(TensorInfo info, long first, long count, MemorySegment segment, Arena arena) {
    this.info = info;
    this.first = first;
    this.count = count;
    this.segment = segment;
    this.arena = arena;
  }

  public TensorInfo info() {
    return info;
  }

  /** Index of the first mapped element within the tensor. */
  public long first() {
    return first;
  }

  /** Number of mapped elements. */
  public long count() {
    return count;
  }

  /** The raw little-endian bytes, valid until {@link #close()}. */
  public MemorySegment segment() {
    return segment;
  }

  /**
   * Decodes {@code n} mapped elements starting at mapped element {@code from} into float32.
   *
   * @throws IndexOutOfBoundsException when the range is outside the mapping or the array
   */
  public void readFloats(long from, float[] dst, int dstOff, int n) {
    java.util.Objects.checkFromIndexSize(from, n, count);
    DTypeCodec.decode(segment, from * info.dtype().byteSize(), info.dtype(), dst, dstOff, n);
  }

  /** All mapped elements as float32 (at most 2^31 - 9 of them). */
  public float[] toFloatArray() {
    if (count > Integer.MAX_VALUE - 8) {
      throw new IllegalStateException(
          "tensor '" + info.name() + "' has " + count + " elements, more than one array holds; read it in chunks");
    }
    float[] out = dev.graft.internal.FloatArrays.take((int) count);
    readFloats(0, out, 0, out.length);
    return out;
  }

  @Override
  public void close() {
    if (arena.scope().isAlive()) {
      arena.close();
    }
  }
}
