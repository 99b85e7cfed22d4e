package dev.graft.evolve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

/** Drives optimisers on toy problems without the engine. */
final class Toys {
  private Toys() {}

  static final ObjectNode NO_ORIGIN = States.origin("test");

  /** Evaluated candidate with a fitness and optional per-example scores. */
  static Evaluated ev(long id, Genome g, double fitness, float[] examples) {
    return new Evaluated(new Candidate(id, 0, g, NO_ORIGIN), new Result(fitness, Map.of(), examples, null, 0), -1);
  }

  static Evaluated ev(long id, double[] genes, double fitness) {
    return ev(id, new Genome.Genes(genes), fitness, null);
  }

  /**
   * Runs {@code steps} ask/tell steps maximising {@code f} on gene vectors.
   *
   * @return the best fitness seen
   */
  static double run(Optimizer opt, ToDoubleFunction<double[]> f, long evaluations, long seed) {
    long id = 0;
    double best = Double.NEGATIVE_INFINITY;
    for (long step = 0; id < evaluations; step++) {
      List<Proposal> ps = opt.ask(new SplittableRandom(dev.graft.tensor.spi.SeededMasks.mix(seed, step)));
      List<Evaluated> out = new ArrayList<>();
      for (Proposal p : ps) {
        double[] x = ((Genome.Genes) p.genome()).values();
        double v = f.applyAsDouble(x);
        best = Math.max(best, v);
        out.add(ev(id++, x, v));
      }
      opt.tell(out);
    }
    return best;
  }
}
