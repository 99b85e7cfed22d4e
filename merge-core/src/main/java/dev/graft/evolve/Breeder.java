package dev.graft.evolve;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * How an optimiser makes children: a crossover (or none) and a mutation. Every random draw goes into the child's
 * lineage record, so {@link #rebuild} makes the same genome from the parents and that record alone, on any machine
 * that opened the run (tested: the same bits).
 *
 * @param crossover the crossover, or null when children are copies of parent 1
 * @param mutation the mutation (possibly inactive)
 */
public record Breeder(Crossover crossover, Mutation mutation) {
  public Breeder {
    java.util.Objects.requireNonNull(mutation, "mutation");
  }

  /** The child recorded in {@code origin}: parent 1 crossed with parent 2 when there are two, then mutated. */
  public Genome rebuild(List<Genome> parents, JsonNode origin) {
    Genome g = parents.get(0);
    if (parents.size() == 2) {
      if (crossover == null) {
        throw new IllegalStateException("a child of two parents, but this run has no crossover");
      }
      g = crossover.apply(g, parents.get(1), origin);
    } else if (parents.size() != 1) {
      throw new IllegalArgumentException("a child has 1 or 2 parents, found " + parents.size());
    }
    return mutation.apply(g, origin);
  }
}
