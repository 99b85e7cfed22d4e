package dev.graft.evolve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * A generational genetic algorithm: parents by tournament, a child by crossover (with probability
 * {@code crossoverRate}, else a copy of parent 1) then mutation, and the {@code elites} best of the previous
 * population carried over unchanged. The first population is the seed genomes, filled up by the generator. In model
 * space the crossover is a merge operator (GENOME's idea), in recipe space a blend of gene vectors.
 */
public final class GeneticAlgorithm implements Optimizer {
  /**
   * Settings.
   *
   * @param population individuals per generation
   * @param tournament individuals per tournament
   * @param crossoverRate probability of crossover (else the child is a copy of parent 1)
   * @param elites best individuals kept unchanged
   */
  public record Options(int population, int tournament, double crossoverRate, int elites) {
    public Options {
      if (population < 2 || tournament < 1 || !(crossoverRate >= 0 && crossoverRate <= 1) || elites < 0 || elites >= population) {
        throw new IllegalArgumentException("ga needs population >= 2, tournament >= 1, crossover_rate in [0, 1], 0 <= elites < population");
      }
    }
  }

  private final Options options;
  private final List<Genome> seeds;
  private final Generator generator;
  private final Crossover crossover;
  private final Mutation mutation;
  private List<Evaluated> population = new ArrayList<>(); // sorted best first

  public GeneticAlgorithm(Options options, List<Genome> seeds, Generator generator, Crossover crossover, Mutation mutation) {
    this.options = options;
    this.seeds = List.copyOf(seeds);
    this.generator = generator;
    this.crossover = crossover;
    this.mutation = mutation;
  }

  @Override
  public String method() {
    return "ga";
  }

  @Override
  public int generationSize() {
    return options.population();
  }

  @Override
  public int nextBatch() {
    return population.isEmpty() ? options.population() : options.population() - Math.min(options.elites(), population.size());
  }

  @Override
  public List<Proposal> ask(SplittableRandom rng) {
    if (population.isEmpty()) {
      return Breeding.firstPopulation(seeds, generator, options.population(), rng);
    }
    List<Proposal> out = new ArrayList<>();
    int children = nextBatch();
    for (int c = 0; c < children; c++) {
      Evaluated p1 = tournament(rng);
      out.add(Breeding.child(p1, rng.nextDouble() < options.crossoverRate(), () -> tournament(rng), crossover, mutation, rng));
    }
    return out;
  }

  /** The fittest of {@code tournament} individuals drawn without replacement (the earlier-ranked on ties). */
  private Evaluated tournament(SplittableRandom rng) {
    int k = Math.min(options.tournament(), population.size());
    int[] idx = new int[population.size()];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    int bestRank = Integer.MAX_VALUE;
    for (int i = 0; i < k; i++) {
      int j = i + rng.nextInt(idx.length - i);
      int t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
      bestRank = Math.min(bestRank, idx[i]);
    }
    return population.get(bestRank); // the population is sorted best first
  }

  @Override
  public void tell(List<Evaluated> results) {
    List<Evaluated> next = new ArrayList<>();
    next.addAll(population.subList(0, Math.min(options.elites(), population.size())));
    next.addAll(results);
    next.sort(Comparator.comparingDouble((Evaluated e) -> -e.fitness()).thenComparingLong(Evaluated::id));
    population = next;
  }

  @Override
  public Optional<Evaluated> best() {
    return population.isEmpty() ? Optional.empty() : Optional.of(population.get(0));
  }

  @Override
  public List<Evaluated> population() {
    return List.copyOf(population);
  }

  @Override
  public ObjectNode save(GenomeStore store) {
    ObjectNode s = States.JSON.createObjectNode();
    s.set("population", States.list(population, store));
    return s;
  }

  @Override
  public void restore(ObjectNode s, GenomeStore store) {
    population = new ArrayList<>(States.list(s.get("population"), store));
  }
}
