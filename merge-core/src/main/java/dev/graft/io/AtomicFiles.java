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

  private static final java.util.Set<Path> UNFINISHED = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private static final java.util.concurrent.atomic.AtomicBoolean HOOKED = new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Marks {@code p}, a partial output (file or folder) that only a completed write renames into place, for removal
   * should the JVM stop before {@link #finished(Path)} is called for it: on SIGTERM, Ctrl-C or {@code System.exit},
   * an interrupted merge, conversion or alignment then leaves no gigabytes of partial data behind. (SIGKILL still does;
   * the next run writing the same output removes them.)
   */
  public static void unfinished(Path p) {
    if (HOOKED.compareAndSet(false, true)) {
      try {
        Runtime.getRuntime().addShutdownHook(new Thread(AtomicFiles::removeUnfinished, "graft-remove-partial-output"));
      } catch (IllegalStateException stopping) {
        return; // the JVM is already stopping: nothing more will be written either
      }
    }
    UNFINISHED.add(p.toAbsolutePath().normalize());
  }

  /** {@code p} is complete, renamed or removed: no longer removed at exit. */
  public static void finished(Path p) {
    UNFINISHED.remove(p.toAbsolutePath().normalize());
  }

  /** What the shutdown hook does: removes every unfinished output (a few tries: writers may still be adding files). */
  static void removeUnfinished() {
    for (Path p : UNFINISHED) {
      for (int attempt = 0; attempt < 3 && java.nio.file.Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS); attempt++) {
        try {
          deleteTree(p);
        } catch (RuntimeException busy) {
          // a file appeared or vanished while walking: walk again
        }
      }
    }
  }

  /** Removes a file or a folder and everything under it; nothing when it does not exist. */
  public static void deleteTree(Path p) {
    if (!java.nio.file.Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (var s = java.nio.file.Files.walk(p)) {
      for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        java.nio.file.Files.deleteIfExists(x);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("removing " + p + ": " + e.getMessage(), e);
    }
  }

  /**
   * Puts the complete folder {@code tmp} in place of {@code target} (replacing an earlier one there): the old folder is
   * moved aside, the new one renamed into place, the old one removed — {@code target} never holds a partial result.
   */
  public static void replaceDirectory(Path tmp, Path target) throws java.io.IOException {
    Path abs = target.toAbsolutePath().normalize();
    Path old = abs.resolveSibling("." + abs.getFileName() + ".graft-old");
    deleteTree(old);
    if (java.nio.file.Files.exists(abs)) {
      java.nio.file.Files.move(abs, old, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
    java.nio.file.Files.move(tmp, abs, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    deleteTree(old);
  }
}
