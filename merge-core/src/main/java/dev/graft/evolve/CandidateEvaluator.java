package dev.graft.evolve;

/**
 * Scores genomes on the fit splits of the run's tasks. One instance is used by one thread at a time (the engine
 * opens one per worker); it may keep a model resident between calls.
 */
public interface CandidateEvaluator extends AutoCloseable {
  /** The genome's result; failures the candidate causes are returned as {@link Result#failed}, not thrown. */
  Result evaluate(Genome genome);

  @Override
  void close();
}
