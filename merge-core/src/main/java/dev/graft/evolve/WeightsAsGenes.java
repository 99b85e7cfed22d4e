package dev.graft.evolve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * A gene-vector optimiser (CMA-ES) searching model space: its proposals become weights (rounded to float32), as the
 * M2N2 paper's CMA-ES baseline searches raw weights.
 */
final class WeightsAsGenes implements Optimizer {
  private final Optimizer inner;

  WeightsAsGenes(Optimizer inner) {
    this.inner = inner;
  }

  static double[] genes(Genome.Flat f) {
    double[] x = new double[f.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = f.values()[i];
    }
    return x;
  }

  @Override
  public String method() {
    return inner.method();
  }

  @Override
  public List<Proposal> ask(SplittableRandom rng) {
    List<Proposal> out = new ArrayList<>();
    for (Proposal p : inner.ask(rng)) {
      double[] x = ((Genome.Genes) p.genome()).values();
      float[] w = new float[x.length];
      for (int i = 0; i < w.length; i++) {
        w[i] = (float) x[i];
      }
      out.add(new Proposal(new Genome.Flat(w), p.origin()));
    }
    return out;
  }

  @Override
  public int nextBatch() {
    return inner.nextBatch();
  }

  @Override
  public void tell(List<Evaluated> results) {
    inner.tell(results);
  }

  @Override
  public Optional<Evaluated> best() {
    return inner.best();
  }

  @Override
  public int generationSize() {
    return inner.generationSize();
  }

  @Override
  public ObjectNode save(GenomeStore store) {
    return inner.save(store);
  }

  @Override
  public void restore(ObjectNode state, GenomeStore store) {
    inner.restore(state, store);
  }

  @Override
  public List<Evaluated> population() {
    return inner.population();
  }
}
