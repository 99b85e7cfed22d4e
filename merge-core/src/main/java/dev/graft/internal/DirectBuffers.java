package dev.graft.internal;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A per-thread, reusable little-endian direct buffer that grows on demand: one per use site, so that two stages of
 * one pipeline (a read buffer and a write buffer) never hand out the same memory.
 */
public final class DirectBuffers {
  private final ThreadLocal<ByteBuffer> local = new ThreadLocal<>();

  /** This thread's buffer with at least {@code bytes} of capacity, cleared. */
  public ByteBuffer get(int bytes) {
    ByteBuffer b = local.get();
    if (b == null || b.capacity() < bytes) {
      b = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
      local.set(b);
    }
    return b.clear();
  }
}
