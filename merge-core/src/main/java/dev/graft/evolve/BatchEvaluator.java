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
   * Evaluates every genome and returns when all results were given to {@code sink}. A genome whose evaluation fails,
   * or kills the process that ran it, gets {@link Result#failed} with the reason; only a failure of the evaluation
   * system itself (the cluster gone) is thrown.
   */
  void evaluate(List<Genome> genomes, Sink sink);

  @Override
  void close();
}
