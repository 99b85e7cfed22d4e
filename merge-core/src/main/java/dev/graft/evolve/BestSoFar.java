package dev.graft.evolve;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Optional;

/** The best candidate seen and the last batch told, for optimisers without a population of their own. */
final class BestSoFar {
  private Evaluated best;
  private List<Evaluated> last = List.of();

  /** Notes a batch of results (the best keeps the earlier candidate on ties). */
  void told(List<Evaluated> results) {
    last = List.copyOf(results);
    for (Evaluated e : results) {
      if (best == null || e.fitness() > best.fitness()) {
        best = e;
      }
    }
  }

  Optional<Evaluated> best() {
    return Optional.ofNullable(best);
  }

  List<Evaluated> last() {
    return last;
  }

  void save(ObjectNode s, GenomeStore store) {
    if (best != null) {
      s.set("best", States.evaluated(best, store));
    }
    s.set("last", States.list(last, store));
  }

  void restore(ObjectNode s, GenomeStore store) {
    best = s.has("best") ? States.evaluated(s.get("best"), store) : null;
    last = s.has("last") ? States.list(s.get("last"), store) : List.of();
  }
}
