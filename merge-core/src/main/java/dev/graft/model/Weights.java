package dev.graft.model;

import dev.graft.io.Checkpoint;
import dev.graft.io.TensorInfo;
import dev.graft.tensor.Shape;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Named float32 tensors a model is built from: a checkpoint on disk, or tensors held in memory (a merge that is
 * scored without being written).
 */
public interface Weights {
  /** Every tensor name. */
  Set<String> names();

  /** Shape of tensor {@code name}. */
  Shape shape(String name);

  /** Values of tensor {@code name}, row-major, widened to float32. */
  float[] floats(String name);

  /** Where the weights come from, for messages. */
  String origin();

  /** Elements {@code [first, first + count)} of a tensor in row-major order (read from the file alone when mapped). */
  default float[] floats(String name, long first, int count) {
    return java.util.Arrays.copyOfRange(floats(name), Math.toIntExact(first), Math.toIntExact(first + count));
  }

  /**
   * Checks that every tensor {@code expected} names is here with its shape; reports every problem at once (the first
   * 20), naming {@link #origin()} and {@code against} (what implies the shapes, e.g. "config.json (llama)").
   */
  default void requireMatching(java.util.Map<String, Shape> expected, String against) {
    java.util.List<String> problems = new java.util.ArrayList<>();
    expected.forEach((name, shape) -> {
      if (!names().contains(name)) {
        problems.add("missing tensor " + name + " (expected shape " + shape + ")");
      } else if (!shape(name).equals(shape)) {
        problems.add("tensor " + name + " has shape " + shape(name) + ", " + against + " implies " + shape);
      }
    });
    if (!problems.isEmpty()) {
      throw new dev.graft.InvalidInputException(origin() + ": the tensors do not match " + against + ":\n  - "
          + String.join("\n  - ", problems.subList(0, Math.min(20, problems.size())))
          + (problems.size() > 20 ? "\n  - ... and " + (problems.size() - 20) + " more" : ""));
    }
  }

  /** The tensors of an open checkpoint, decoded on demand. */
  static Weights of(Checkpoint checkpoint) {
    return new Weights() {
      @Override
      public Set<String> names() {
        return checkpoint.tensors().keySet();
      }

      @Override
      public Shape shape(String name) {
        TensorInfo i = checkpoint.info(name);
        return i.shape();
      }

      @Override
      public float[] floats(String name) {
        return checkpoint.readFloats(name);
      }

      @Override
      public float[] floats(String name, long first, int count) {
        try (dev.graft.io.MappedTensor m = checkpoint.map(name, first, count)) {
          return m.toFloatArray();
        }
      }

      @Override
      public String origin() {
        return checkpoint.root().toString();
      }
    };
  }

  /** Tensors in memory; {@code values} and {@code shapes} have the same keys. */
  static Weights of(String origin, Map<String, float[]> values, Map<String, Shape> shapes) {
    Map<String, float[]> v = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    Map<String, Shape> s = Map.copyOf(shapes);
    if (!v.keySet().equals(s.keySet())) {
      throw new IllegalArgumentException("values and shapes name different tensors");
    }
    return new Weights() {
      @Override
      public Set<String> names() {
        return v.keySet();
      }

      @Override
      public Shape shape(String name) {
        return s.get(name);
      }

      @Override
      public float[] floats(String name) {
        return v.get(name);
      }

      @Override
      public String origin() {
        return origin;
      }
    };
  }
}
