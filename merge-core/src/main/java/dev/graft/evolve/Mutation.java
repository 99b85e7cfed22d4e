package dev.graft.evolve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.SplittableRandom;

/**
 * Gaussian mutation: each element, with probability {@code rate}, gets {@code N(0, std²)} noise added. Weights take
 * {@code std} as is (M2N2 from scratch uses 0.01); genes take it relative to their interval's width and are clamped
 * to their bounds afterwards.
 *
 * @param std standard deviation of the noise
 * @param rate probability that an element is mutated (1 = every element, the fast path)
 * @param bounds bounds of gene vectors, or null
 */
public record Mutation(double std, double rate, Bounds bounds) {
  public Mutation {
    if (!(std >= 0) || !(rate >= 0 && rate <= 1)) {
      throw new IllegalArgumentException("mutation needs std >= 0 and rate in [0, 1], found " + std + ", " + rate);
    }
  }

  /** No mutation. */
  public static Mutation none() {
    return new Mutation(0, 0, null);
  }

  public boolean active() {
    return std > 0 && rate > 0;
  }

  /**
   * A mutated copy of {@code g} ({@code g} itself when inactive): draws the noise's seed from {@code rng} into
   * {@code origin}, then {@link #apply(Genome, JsonNode)}.
   */
  public Genome apply(Genome g, SplittableRandom rng, ObjectNode origin) {
    if (!active()) {
      return g;
    }
    origin.put("mutation_std", std).put("mutation_seed", rng.nextLong());
    return apply(g, origin);
  }

  /** {@code g} mutated with the seed in {@code origin} (as {@link #apply(Genome, SplittableRandom, ObjectNode)} drew it); deterministic. */
  public Genome apply(Genome g, JsonNode origin) {
    if (!active()) {
      return g;
    }
    SplittableRandom rng = new SplittableRandom(origin.get("mutation_seed").asLong());
    return switch (g) {
      case Genome.Flat f -> {
        float[] v = f.values().clone();
        for (int i = 0; i < v.length; i++) {
          if (rate >= 1 || rng.nextDouble() < rate) {
            v[i] += (float) (rng.nextGaussian() * std);
          }
        }
        yield new Genome.Flat(v);
      }
      case Genome.Genes x -> {
        double[] v = x.values().clone();
        for (int i = 0; i < v.length; i++) {
          if (rate >= 1 || rng.nextDouble() < rate) {
            double width = bounds == null ? 1 : bounds.upper()[i] - bounds.lower()[i];
            v[i] += rng.nextGaussian() * std * width;
          }
        }
        yield new Genome.Genes(bounds == null ? v : bounds.clamp(v));
      }
    };
  }
}
