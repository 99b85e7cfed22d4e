package dev.graft.evolve;

import dev.graft.InvalidInputException;
import dev.graft.model.Weights;
import dev.graft.tensor.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * How a model's tensors lie in a flat genome: every tensor, in a fixed order (the first model's), one after the
 * other. Order {@link Order#PYTORCH} keeps each tensor row-major as stored ({@code fc1.weight} is {@code [out, in]},
 * so a split point cuts between hidden units); {@link Order#JAX} stores 2-D tensors transposed ({@code [in, out]}, the
 * layout of JAX/Flax kernels and of the M2N2 reference code, so a split point cuts between input features). Only
 * split-point crossover sees the difference.
 */
public final class WeightLayout {
  /** Element order of 2-D tensors in the genome. */
  public enum Order {
    PYTORCH,
    JAX
  }

  private final Map<String, Shape> shapes;
  private final Map<String, Integer> offsets = new LinkedHashMap<>();
  private final int size;
  private final Order order;

  /** A layout of {@code shapes}, in their iteration order. */
  public WeightLayout(Map<String, Shape> shapes, Order order) {
    this.shapes = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(shapes));
    this.order = order;
    long at = 0;
    for (Map.Entry<String, Shape> e : shapes.entrySet()) {
      offsets.put(e.getKey(), (int) at);
      at += e.getValue().numel();
      if (at > Integer.MAX_VALUE - 8) {
        throw new InvalidInputException("model space holds every weight in one Java array, at most 2^31 - 9 of them; this model has more."
            + " Search recipe space instead (the genome is the merge's parameters)");
      }
    }
    this.size = (int) at;
  }

  public int size() {
    return size;
  }

  public Order order() {
    return order;
  }

  public Map<String, Shape> shapes() {
    return shapes;
  }

  public Set<String> names() {
    return shapes.keySet();
  }

  private boolean transposed(Shape s) {
    return order == Order.JAX && s.rank() == 2;
  }

  /** Tensor {@code name} of a genome, row-major in its stored shape. */
  public float[] tensor(float[] genome, String name) {
    Shape s = shapes.get(name);
    int o = offsets.get(name);
    int n = (int) s.numel();
    if (!transposed(s)) {
      return java.util.Arrays.copyOfRange(genome, o, o + n);
    }
    int rows = (int) s.dim(0);
    int cols = (int) s.dim(1);
    float[] t = new float[n];
    for (int c = 0; c < cols; c++) {
      for (int r = 0; r < rows; r++) {
        t[r * cols + c] = genome[o + c * rows + r];
      }
    }
    return t;
  }

  /** Writes tensor {@code name} (row-major in its stored shape) into a genome. */
  public void put(float[] genome, String name, float[] values) {
    Shape s = shapes.get(name);
    int o = offsets.get(name);
    if (!transposed(s)) {
      System.arraycopy(values, 0, genome, o, values.length);
      return;
    }
    int rows = (int) s.dim(0);
    int cols = (int) s.dim(1);
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        genome[o + c * rows + r] = values[r * cols + c];
      }
    }
  }

  /** The weights of {@code w} as one genome (shapes checked first). */
  public Genome.Flat flatten(Weights w) {
    w.requireMatching(shapes, "the model-space layout (the first model's tensors)");
    float[] out = new float[size];
    for (String name : shapes.keySet()) {
      put(out, name, w.floats(name));
    }
    return new Genome.Flat(out);
  }

  /** A genome seen as named weights (each tensor copied out when asked for). */
  public Weights weights(Genome.Flat g, String origin) {
    if (g.size() != size) {
      throw new IllegalArgumentException("genome of " + g.size() + " weights, layout of " + size);
    }
    float[] v = g.values();
    return new Weights() {
      @Override
      public Set<String> names() {
        return shapes.keySet();
      }

      @Override
      public Shape shape(String name) {
        return shapes.get(name);
      }

      @Override
      public float[] floats(String name) {
        return tensor(v, name);
      }

      @Override
      public String origin() {
        return origin;
      }
    };
  }

  /** The genome's tensors as separate arrays in their stored shapes, in layout order. */
  public Map<String, float[]> split(Genome.Flat g) {
    Map<String, float[]> out = new LinkedHashMap<>();
    for (String n : shapes.keySet()) {
      out.put(n, tensor(g.values(), n));
    }
    return out;
  }
}
