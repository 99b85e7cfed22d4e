package dev.graft.evolve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.SplittableRandom;

/** Makes a child from two parents. Implementations are stateless and draw only from the given generator. */
public interface Crossover {
  /** Name in recipes and lineage records. */
  String name();

  /**
   * A child of {@code a} (parent 1) and {@code b} (parent 2).
   *
   * @param origin receives what was drawn (split point, ratio, ...), for the lineage record
   */
  Genome cross(Genome a, Genome b, SplittableRandom rng, ObjectNode origin);
}
