package dev.graft.evolve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/** What population-based optimisers share: a first population, and a child from parents. */
final class Breeding {
  private Breeding() {}

  /** {@code count} proposals: the seed genomes first, then fresh ones from the generator. */
  static List<Proposal> firstPopulation(List<Genome> seeds, Generator generator, int count, SplittableRandom rng) {
    List<Proposal> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      if (i < seeds.size()) {
        out.add(new Proposal(seeds.get(i), States.origin("seed").put("index", i)));
      } else {
        ObjectNode o = States.origin("random");
        out.add(new Proposal(generator.create(rng, o), o));
      }
    }
    return out;
  }

  /**
   * A child of {@code p1}: crossed with a second parent when {@code cross} (drawn only then), else a copy, then
   * mutated; the lineage names the parents and keeps every draw ({@link Breeder#rebuild} makes the same child).
   */
  static Proposal child(Evaluated p1, boolean cross, Supplier<Evaluated> p2, Crossover crossover, Mutation mutation, SplittableRandom rng) {
    ObjectNode o = States.origin("child");
    Genome g;
    List<Evaluated> parents;
    if (cross) {
      Evaluated second = p2.get();
      o.putArray("parents").add(p1.id()).add(second.id());
      g = crossover.cross(p1.genome(), second.genome(), rng, o);
      parents = List.of(p1, second);
    } else {
      o.putArray("parents").add(p1.id());
      g = p1.genome();
      parents = List.of(p1);
    }
    return new Proposal(mutation.apply(g, rng, o), o, parents);
  }
}
