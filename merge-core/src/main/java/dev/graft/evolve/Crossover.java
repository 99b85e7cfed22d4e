package dev.graft.evolve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.SplittableRandom;

/**
 * Makes a child from two parents in two steps: {@link #draw} takes everything random from the step's generator and
 * writes it into the lineage record, {@link #apply} makes the child from the parents and that record alone. So a
 * child can be rebuilt anywhere the parents are (a cluster's executors rebuild children from their lineage instead of
 * receiving their weights). Implementations are stateless.
 */
public interface Crossover {
  /** Name in recipes and lineage records. */
  String name();

  /** Draws what the crossover of parents of {@code size} elements needs (split point, ratio, seeds) into {@code origin}. */
  void draw(int size, SplittableRandom rng, ObjectNode origin);

  /** The child of {@code a} (parent 1) and {@code b} (parent 2) made with the draws in {@code origin}; deterministic. */
  Genome apply(Genome a, Genome b, JsonNode origin);

  /**
   * A child of {@code a} and {@code b}: {@link #draw} then {@link #apply}.
   *
   * @param origin receives what was drawn, for the lineage record
   */
  default Genome cross(Genome a, Genome b, SplittableRandom rng, ObjectNode origin) {
    if (b.size() != a.size()) {
      throw new IllegalArgumentException("parents of different sizes: " + a.size() + " and " + b.size());
    }
    draw(a.size(), rng, origin);
    return apply(a, b, origin);
  }
}
