package dev.graft.spark;

import dev.graft.evolve.CandidateEvaluator;
import java.io.Serializable;
import java.util.function.Supplier;

/**
 * What an executor needs to score candidates, shipped with every task: small (a run recipe, not weights). Each
 * executor process opens it once and keeps it across generations ({@link ExecutorCache}).
 */
public interface EvaluatorSource extends Serializable {
  /** Identity of what {@link #open} builds: sources with the same key share the executor's state. */
  String key();

  /** Loads what evaluation needs (models, tasks) on the executor. */
  Opened open();

  /**
   * The executor-side state.
   *
   * @param evaluators makes one evaluator per concurrent task
   * @param resources released when the executor moves on to another source (or the run ends in this process)
   */
  record Opened(Supplier<CandidateEvaluator> evaluators, AutoCloseable resources) {}
}
