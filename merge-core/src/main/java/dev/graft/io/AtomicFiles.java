package dev.graft.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Small outputs written under a temporary name and renamed when complete, so a reader never sees half a file. */
public final class AtomicFiles {
  private AtomicFiles() {}

  /** Writes {@code text} to {@code file} via {@code .NAME.partial} in the same folder (created if needed). */
  public static void writeString(Path file, String text) {
    writeBytes(file, text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** Writes bytes the same way. */
  public static void writeBytes(Path file, byte[] bytes) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      Files.createDirectories(parent);
      Path tmp = parent.resolve("." + file.getFileName() + ".partial");
      Files.write(tmp, bytes);
      Files.move(tmp, file.toAbsolutePath(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }
}
