package dev.graft.evolve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * MAP-Elites over two behaviour descriptors: a grid of {@code bins × bins} cells over the descriptors' ranges (two
 * tasks' primary metrics, e.g. accuracy on odd and on even digits), each cell keeping the fittest candidate that
 * fell into it. Offspring come from elites drawn uniformly among the filled cells (crossover with a second uniform
 * elite when enabled, then mutation); a child enters its cell when the cell is empty or it is fitter than the
 * elite there (ties keep the elite).
 */
public final class MapElites implements Optimizer {
  /**
   * Settings.
   *
   * @param descriptors the two task names whose metrics place a candidate on the grid
   * @param lower lower end of each descriptor's range
   * @param upper upper end of each descriptor's range
   * @param bins cells per axis
   * @param batch offspring per step
   * @param initial genomes in the first step (the seeds, filled up by the generator)
   * @param crossover whether offspring come from two elites
   */
  public record Options(List<String> descriptors, double[] lower, double[] upper, int bins, int batch, int initial, boolean crossover) {
    public Options {
      if (descriptors.size() != 2 || lower.length != 2 || upper.length != 2 || bins < 1 || batch < 1 || initial < 1
          || !(lower[0] < upper[0]) || !(lower[1] < upper[1])) {
        throw new IllegalArgumentException("map_elites needs two descriptors with lower < upper, bins >= 1, batch >= 1, initial >= 1");
      }
      descriptors = List.copyOf(descriptors);
    }
  }

  private final Options options;
  private final List<Genome> seeds;
  private final Generator generator;
  private final Crossover crossover;
  private final Mutation mutation;
  private final TreeMap<Integer, Evaluated> cells = new TreeMap<>();
  private boolean started;

  public MapElites(Options options, List<Genome> seeds, Generator generator, Crossover crossover, Mutation mutation) {
    this.options = options;
    this.seeds = List.copyOf(seeds);
    this.generator = generator;
    this.crossover = crossover;
    this.mutation = mutation;
  }

  @Override
  public String method() {
    return "map_elites";
  }

  public Options options() {
    return options;
  }

  @Override
  public int generationSize() {
    return options.batch();
  }

  @Override
  public int nextBatch() {
    return started && !cells.isEmpty() ? options.batch() : options.initial();
  }

  @Override
  public List<Proposal> ask(SplittableRandom rng) {
    if (!started || cells.isEmpty()) {
      return Breeding.firstPopulation(seeds, generator, options.initial(), rng);
    }
    List<Proposal> out = new ArrayList<>();
    List<Evaluated> elites = new ArrayList<>(cells.values());
    for (int b = 0; b < options.batch(); b++) {
      Evaluated p1 = elites.get(rng.nextInt(elites.size()));
      out.add(Breeding.child(p1, options.crossover() && elites.size() > 1, () -> elites.get(rng.nextInt(elites.size())), crossover, mutation, rng));
    }
    return out;
  }

  /** The grid cell of a result, or -1 when a descriptor is missing or not finite. */
  public int cell(Result r) {
    int[] ij = new int[2];
    for (int a = 0; a < 2; a++) {
      Double v = r.tasks().get(options.descriptors().get(a));
      if (v == null || !Double.isFinite(v)) {
        return -1;
      }
      double u = (v - options.lower()[a]) / (options.upper()[a] - options.lower()[a]);
      ij[a] = Math.max(0, Math.min(options.bins() - 1, (int) Math.floor(u * options.bins())));
    }
    return ij[0] * options.bins() + ij[1];
  }

  @Override
  public void tell(List<Evaluated> results) {
    started = true;
    for (Evaluated e : results) {
      if (!e.result().ok()) {
        continue;
      }
      int c = cell(e.result());
      if (c < 0) {
        continue;
      }
      Evaluated old = cells.get(c);
      if (old == null || e.fitness() > old.fitness()) {
        cells.put(c, e);
      }
    }
  }

  /** Filled cells: index {@code i * bins + j} to its elite. */
  public java.util.SortedMap<Integer, Evaluated> cells() {
    return java.util.Collections.unmodifiableSortedMap(cells);
  }

  @Override
  public Optional<Evaluated> best() {
    return cells.values().stream().max(Comparator.comparingDouble(Evaluated::fitness).thenComparing(e -> -e.id()));
  }

  @Override
  public List<Evaluated> population() {
    return cells.values().stream().sorted(Comparator.comparingDouble((Evaluated e) -> -e.fitness()).thenComparingLong(Evaluated::id)).toList();
  }

  @Override
  public ObjectNode save(GenomeStore store) {
    ObjectNode s = States.JSON.createObjectNode().put("started", started);
    ArrayNode a = s.putArray("cells");
    cells.forEach((k, v) -> a.addObject().put("cell", k).set("elite", States.evaluated(v, store)));
    return s;
  }

  @Override
  public void restore(ObjectNode s, GenomeStore store) {
    started = s.get("started").asBoolean();
    cells.clear();
    for (JsonNode n : s.get("cells")) {
      cells.put(n.get("cell").asInt(), States.evaluated(n.get("elite"), store));
    }
  }
}
