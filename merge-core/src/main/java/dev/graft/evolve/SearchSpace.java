package dev.graft.evolve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** What an evolution searches over, and everything that depends on it: genomes, evaluation, outputs. */
public interface SearchSpace extends AutoCloseable {
  /** {@code recipe} or {@code model}. */
  String kind();

  /** Genomes the first population or archive starts from. */
  List<Genome> seeds();

  /** The genome a single-point search (CMA-ES, random search) starts from. */
  Genome start();

  /** Bounds of gene vectors, or null (model space). */
  Bounds bounds();

  /** Fresh genomes to fill a first population. */
  Generator generator();

  /**
   * A crossover by name: {@code slerp_split}, {@code slerp}, {@code blend} (recipe space) or a merge operator
   * (model space), with fixed operator parameters.
   */
  Crossover crossover(String name, Map<String, Object> parameters);

  /** A new evaluator (one per worker thread). */
  CandidateEvaluator newEvaluator();

  /** Scores genomes on held-out splits. */
  Evolution.HeldOut heldOut();

  /** What the run's record keeps of each genome (genes and recipe in recipe space; nothing in model space). */
  ObjectNode describe(Genome genome);

  /** Writes the model a genome stands for as a Hugging Face folder (atomically). */
  void saveModel(Genome genome, Path dir);

  @Override
  default void close() {}
}
