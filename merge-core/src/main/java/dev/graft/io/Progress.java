package dev.graft.io;

/** Receives progress of long operations: units done of a total, and bytes. */
public interface Progress {
  Progress NONE = (done, total, bytes, totalBytes) -> {};

  /** Called from any thread after each unit (tensor, chunk) of work. */
  void update(long done, long total, long bytes, long totalBytes);
}
