package dev.graft.evolve;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A genome an optimiser wants evaluated, and how it was made (for the lineage in the run's record): e.g.
 * {@code {"op": "crossover", "parents": [12, 40], "split": 913, "ratio": 0.27}}.
 *
 * @param genome what to evaluate
 * @param origin how it was made; never null
 */
public record Proposal(Genome genome, ObjectNode origin) {
  public Proposal {
    java.util.Objects.requireNonNull(genome, "genome");
    java.util.Objects.requireNonNull(origin, "origin");
  }
}
