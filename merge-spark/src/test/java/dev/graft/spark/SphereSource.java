package dev.graft.spark;

import dev.graft.evolve.Breeder;
import dev.graft.evolve.CandidateEvaluator;
import dev.graft.evolve.Genome;
import dev.graft.evolve.Mutation;
import dev.graft.evolve.Result;
import dev.graft.evolve.SlerpCrossover;
import java.util.Map;

/**
 * A test source: fitness is minus the squared norm of the genes, after {@code delayMs} of sleep (so that a generation
 * lasts long enough to be interrupted); the candidate whose first gene is exactly {@code poison} halts its process
 * the way a native abort would. Children are rebuilt with M2N2's split-point SLERP and a mutation of std 0.01.
 */
record SphereSource(long delayMs, double poison) implements EvaluatorSource {
  @Override
  public String key() {
    return "sphere-" + delayMs + "-" + poison;
  }

  @Override
  public Opened open() {
    return new Opened(() -> new CandidateEvaluator() {
      @Override
      public Result evaluate(Genome genome) {
        double[] x = switch (genome) {
          case Genome.Genes g -> g.values();
          case Genome.Flat f -> {
            double[] d = new double[f.size()];
            for (int i = 0; i < d.length; i++) {
              d[i] = f.values()[i];
            }
            yield d;
          }
        };
        if (x[0] == poison) {
          Runtime.getRuntime().halt(134);
        }
        if (delayMs > 0) {
          try {
            Thread.sleep(delayMs);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        double s = 0;
        for (double v : x) {
          s += v * v;
        }
        return new Result(-s, Map.of("sphere", -s), null, null, delayMs / 1e3);
      }

      @Override
      public void close() {}
    }, new Breeder(new SlerpCrossover(true, null), new Mutation(0.01, 1, null)), null, () -> { });
  }
}
