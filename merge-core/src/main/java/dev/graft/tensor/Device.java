package dev.graft.tensor;

import java.util.Locale;

/** A compute device: {@code cpu} or {@code cuda:N}. */
public record Device(Kind kind, int index) {
  public enum Kind {
    CPU,
    CUDA
  }

  public static final Device CPU = new Device(Kind.CPU, 0);

  public Device {
    if (index < 0) {
      throw new IllegalArgumentException("device index must be >= 0, found " + index);
    }
  }

  /** Parses {@code cpu}, {@code cuda} or {@code cuda:N}. */
  public static Device parse(String s) {
    String t = s.trim().toLowerCase(Locale.ROOT);
    if (t.equals("cpu")) {
      return CPU;
    }
    if (t.equals("cuda") || t.equals("gpu")) {
      return new Device(Kind.CUDA, 0);
    }
    if (t.startsWith("cuda:")) {
      try {
        return new Device(Kind.CUDA, Integer.parseInt(t.substring(5)));
      } catch (NumberFormatException e) {
        // fall through to the message below
      }
    }
    throw new IllegalArgumentException("unknown device '" + s + "' (expected cpu, cuda or cuda:N)");
  }

  @Override
  public String toString() {
    return kind == Kind.CPU ? "cpu" : "cuda:" + index;
  }
}
