package dev.graft.evolve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.SplittableRandom;

/**
 * BLX-α crossover of gene vectors: each child gene is drawn uniformly from the parents' interval widened by
 * {@code α} times its length on both sides, then clamped to the bounds (α = 0.5 by default, GENOME passes 1.2).
 */
public final class BlendCrossover implements Crossover {
  private final double alpha;
  private final Bounds bounds;

  public BlendCrossover(double alpha, Bounds bounds) {
    if (!(alpha >= 0)) {
      throw new IllegalArgumentException("blend crossover needs alpha >= 0");
    }
    this.alpha = alpha;
    this.bounds = bounds;
  }

  @Override
  public String name() {
    return "blend";
  }

  @Override
  public void draw(int size, SplittableRandom rng, ObjectNode origin) {
    origin.put("crossover", "blend").put("alpha", alpha).put("crossover_seed", rng.nextLong());
  }

  @Override
  public Genome apply(Genome a, Genome b, JsonNode origin) {
    if (!(a instanceof Genome.Genes ga) || !(b instanceof Genome.Genes gb)) {
      throw new IllegalArgumentException("blend crossover works on gene vectors (recipe space)");
    }
    SplittableRandom rng = new SplittableRandom(origin.get("crossover_seed").asLong());
    double[] x = ga.values();
    double[] y = gb.values();
    double[] out = new double[x.length];
    for (int i = 0; i < x.length; i++) {
      double lo = Math.min(x[i], y[i]);
      double hi = Math.max(x[i], y[i]);
      double d = hi - lo;
      out[i] = lo - alpha * d + rng.nextDouble() * (1 + 2 * alpha) * d;
    }
    return new Genome.Genes(bounds == null ? out : bounds.clamp(out));
  }
}
