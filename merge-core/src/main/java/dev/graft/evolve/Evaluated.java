package dev.graft.evolve;

/**
 * A candidate and its result.
 *
 * @param candidate the candidate
 * @param result its result
 * @param duplicateOf the id of an earlier candidate with the same genome whose result was reused, or -1 when this
 *     candidate was evaluated itself
 */
public record Evaluated(Candidate candidate, Result result, long duplicateOf) {
  public long id() {
    return candidate.id();
  }

  public double fitness() {
    return result.fitness();
  }

  public Genome genome() {
    return candidate.genome();
  }
}
