package dev.graft.evolve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * A genome an optimiser wants evaluated, and how it was made (for the lineage in the run's record): e.g.
 * {@code {"op": "crossover", "parents": [12, 40], "split": 913, "ratio": 0.27, "mutation_seed": ...}}.
 *
 * @param genome what to evaluate
 * @param origin how it was made; never null
 * @param parents for a child, the evaluated parents {@link Breeder#rebuild} makes it from with {@code origin}
 *     (parent 1 first); empty for genomes made otherwise (seeds, random draws, samples of a distribution)
 */
public record Proposal(Genome genome, ObjectNode origin, List<Evaluated> parents) {
  public Proposal {
    java.util.Objects.requireNonNull(genome, "genome");
    java.util.Objects.requireNonNull(origin, "origin");
    parents = List.copyOf(parents);
  }

  /** A genome without parents. */
  public Proposal(Genome genome, ObjectNode origin) {
    this(genome, origin, List.of());
  }
}
