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
  private final BestSoFar seen = new BestSoFar();

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
    seen.told(results);
  }

  @Override
  public Optional<Evaluated> best() {
    return seen.best();
  }

  /** The last batch. */
  @Override
  public List<Evaluated> population() {
    return seen.last();
  }

  @Override
  public ObjectNode save(GenomeStore store) {
    ObjectNode s = States.JSON.createObjectNode().put("started", started);
    seen.save(s, store);
    return s;
  }

  @Override
  public void restore(ObjectNode s, GenomeStore store) {
    started = s.get("started").asBoolean();
    seen.restore(s, store);
  }
}
