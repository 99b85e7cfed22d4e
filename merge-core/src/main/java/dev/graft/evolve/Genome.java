package dev.graft.evolve;

import java.util.Arrays;

/**
 * What an optimiser varies: the genes of a merge recipe (a bounded real vector, recipe space) or the weights of a
 * model flattened into one float32 vector (model space). Genomes are never modified after creation.
 */
public sealed interface Genome {
  /** Number of genes or weights. */
  int size();

  /** A 64-bit hash of the exact values (bit patterns), used to spot identical candidates. */
  long hash();

  /**
   * A real vector, e.g. the evolvable parameters of a recipe.
   *
   * @param values the genes (not copied: callers must not change the array afterwards)
   */
  record Genes(double[] values) implements Genome {
    @Override
    public int size() {
      return values.length;
    }

    @Override
    public long hash() {
      long h = 0x243F6A8885A308D3L ^ values.length;
      for (double v : values) {
        h = mix(h ^ Double.doubleToLongBits(v == 0 ? 0.0 : v)); // -0.0 and 0.0 decode to the same recipe
      }
      return h;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Genes g && Arrays.equals(values, g.values);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(values);
    }

    @Override
    public String toString() {
      return "Genes" + Arrays.toString(values);
    }
  }

  /**
   * A model's weights, every tensor flattened in a fixed order (see {@link WeightLayout}).
   *
   * @param values the weights (not copied: callers must not change the array afterwards)
   */
  record Flat(float[] values) implements Genome {
    @Override
    public int size() {
      return values.length;
    }

    @Override
    public long hash() {
      long h = 0x13198A2E03707344L ^ values.length;
      int i = 0;
      for (; i + 1 < values.length; i += 2) {
        h = mix(h ^ ((long) Float.floatToIntBits(values[i]) << 32 | (Float.floatToIntBits(values[i + 1]) & 0xFFFFFFFFL)));
      }
      if (i < values.length) {
        h = mix(h ^ Float.floatToIntBits(values[i]));
      }
      return h;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Flat f && Arrays.equals(values, f.values);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(values);
    }

    @Override
    public String toString() {
      return "Flat[" + values.length + " weights]";
    }
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
