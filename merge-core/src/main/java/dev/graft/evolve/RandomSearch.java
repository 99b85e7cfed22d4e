package dev.graft.evolve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Random search, the baseline every optimiser should beat: batches of genomes from the generator (uniform in the
 * bounds for recipe space); the very first proposal is the start genome (the recipe as written), so the baseline
 * includes it.
 */
public final class RandomSearch implements Optimizer {
  private final int batch;
  private final Genome start;
  private final Generator generator;
  private boolean started;
  private Evaluated best;
  private List<Evaluated> last = List.of();

  public RandomSearch(int batch, Genome start, Generator generator) {
    if (batch < 1) {
      throw new IllegalArgumentException("random search needs batch >= 1");
    }
    this.batch = batch;
    this.start = start;
    this.generator = generator;
  }

  @Override
  public String method() {
    return "random";
  }

  @Override
  public int nextBatch() {
    return batch;
  }

  @Override
  public int generationSize() {
    return batch;
  }

  @Override
  public List<Proposal> ask(SplittableRandom rng) {
    List<Proposal> out = new ArrayList<>();
    for (int i = 0; i < batch; i++) {
      if (!started && i == 0 && start != null) {
        out.add(new Proposal(start, States.origin("start")));
        continue;
      }
      ObjectNode o = States.origin("random");
      out.add(new Proposal(generator.create(rng, o), o));
    }
    return out;
  }

  @Override
  public void tell(List<Evaluated> results) {
    started = true;
    last = List.copyOf(results);
    for (Evaluated e : results) {
      if (best == null || e.fitness() > best.fitness()) {
        best = e;
      }
    }
  }

  @Override
  public Optional<Evaluated> best() {
    return Optional.ofNullable(best);
  }

  /** The last batch. */
  @Override
  public List<Evaluated> population() {
    return last;
  }

  @Override
  public ObjectNode save(GenomeStore store) {
    ObjectNode s = States.JSON.createObjectNode().put("started", started);
    if (best != null) {
      s.set("best", States.evaluated(best, store));
    }
    s.set("last", States.list(last, store));
    return s;
  }

  @Override
  public void restore(ObjectNode s, GenomeStore store) {
    started = s.get("started").asBoolean();
    best = s.has("best") ? States.evaluated(s.get("best"), store) : null;
    last = States.list(s.get("last"), store);
  }
}
