package dev.graft.evolve;

import java.util.List;

/**
 * Where the engine's candidates are evaluated: threads of this JVM ({@link LocalEvaluation}) or the executors of a
 * cluster (the {@code merge-spark} module, found through {@link ClusterEvaluation}). The engine hands over each
 * step's genomes that need an evaluation and records every result as it arrives; what it records does not depend on
 * where the evaluation ran.
 */
public interface BatchEvaluator extends AutoCloseable {
  /** Receives results; may be called from any thread, once per genome. */
  @FunctionalInterface
  interface Sink {
    void done(int index, Result result);
  }

  /**
   * Evaluates every proposal's genome and returns when all results were given to {@code sink} (index: the position in
   * {@code proposals}). A genome whose evaluation fails, or kills the process that ran it, gets {@link Result#failed}
   * with the reason; only a failure of the evaluation system itself (the cluster gone) is thrown. A proposal's parents
   * and lineage let an evaluator elsewhere rebuild a child ({@link Breeder#rebuild}) instead of receiving its weights.
   */
  void evaluate(List<Proposal> proposals, Sink sink);

  /**
   * The held-out score of {@code genome} (the best so far, once per generation): by {@code local}, in this process,
   * unless the evaluator scores it where it scores candidates (a cluster's executors, which hold the run's models).
   */
  default Evolution.HeldOutScore heldOut(Genome genome, Evolution.HeldOut local) {
    return local.evaluate(genome);
  }

  @Override
  void close();
}
