package dev.graft.evolve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.SplittableRandom;

/** Makes a fresh genome (to fill an initial population), recording how in {@code origin}. */
@FunctionalInterface
public interface Generator {
  Genome create(SplittableRandom rng, ObjectNode origin);
}
