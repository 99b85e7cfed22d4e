package dev.graft.spark;

import dev.graft.evolve.Breeder;
import dev.graft.evolve.CandidateEvaluator;
import dev.graft.evolve.Evolution;
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
   * @param breeder rebuilds children from their parents and lineage, or null (candidates then travel as they are)
   * @param heldOut scores genomes on the held-out splits, or null (the driver scores them then)
   * @param resources released when the executor moves on to another source (or the run ends in this process)
   */
  record Opened(Supplier<CandidateEvaluator> evaluators, Breeder breeder, Supplier<Evolution.HeldOut> heldOut, AutoCloseable resources) {}
}
