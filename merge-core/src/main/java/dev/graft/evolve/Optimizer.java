package dev.graft.evolve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * An optimiser as an ask/tell state machine. The engine asks for proposals, evaluates them (in parallel, reusing
 * results of identical genomes, replaying recorded results after a resume), and tells the optimiser the results in
 * proposal order. All randomness comes from the {@code rng} given to {@link #ask}, which the engine derives from the
 * run seed and the step number, so a run is a deterministic function of its recipe and seed.
 */
public interface Optimizer {
  /** Method name as the evolve recipe writes it ({@code cmaes}, {@code m2n2}, ...). */
  String method();

  /** The next proposals; never empty. */
  List<Proposal> ask(SplittableRandom rng);

  /** How many proposals the next {@link #ask} returns (the engine stops before a step that would overrun its budget). */
  int nextBatch();

  /** Results of the last {@link #ask}, in proposal order. */
  void tell(List<Evaluated> results);

  /** The best candidate the optimiser holds, by fitness (empty before the first {@link #tell}). */
  Optional<Evaluated> best();

  /** Evaluations that make one reported generation (the population size, or λ for CMA-ES). */
  int generationSize();

  /** The state, with genomes and large arrays put into {@code store}. */
  ObjectNode save(GenomeStore store);

  /** Restores what {@link #save} wrote. */
  void restore(ObjectNode state, GenomeStore store);

  /** The current population or archive (for reports), best first where the optimiser ranks them. */
  List<Evaluated> population();
}
