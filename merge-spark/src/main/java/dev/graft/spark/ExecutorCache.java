package dev.graft.spark;

import dev.graft.evolve.CandidateEvaluator;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * The state of one executor process: the last source it opened (a run's search space with its models and tasks) and
 * the evaluators its task threads used, kept across tasks and generations. One source at a time: a new key releases
 * the previous one.
 */
final class ExecutorCache {
  private static String key;
  private static EvaluatorSource.Opened opened;
  private static final Deque<CandidateEvaluator> idle = new ArrayDeque<>();
  private static final List<CandidateEvaluator> all = new ArrayList<>();
  private static int loads;
  private static dev.graft.evolve.Evolution.HeldOut heldOut;

  private ExecutorCache() {}

  /** An evaluator for {@code source}, opening the source when this process has not yet (or another one before). */
  static synchronized CandidateEvaluator take(EvaluatorSource source) {
    open(source);
    if (!idle.isEmpty()) {
      return idle.pop();
    }
    CandidateEvaluator ev = opened.evaluators().get();
    all.add(ev);
    return ev;
  }

  /** Opens {@code source} unless it is the one open (releasing that one first). */
  private static void open(EvaluatorSource source) {
    String k = source.key();
    if (!k.equals(key)) {
      clear();
      opened = source.open();
      key = k;
      loads++;
    }
  }

  /** Gives back an evaluator {@link #take} returned for {@code source}. */
  static synchronized void give(EvaluatorSource source, CandidateEvaluator ev) {
    if (source.key().equals(key)) {
      idle.push(ev);
    } else {
      ev.close();
    }
  }

  /** What rebuilds children for the open source (after {@link #take}), or null. */
  static synchronized dev.graft.evolve.Breeder breeder() {
    return opened == null ? null : opened.breeder();
  }

  /** The held-out scorer of the source opened for {@code source} (made on first use, kept with the source). */
  static synchronized dev.graft.evolve.Evolution.HeldOut heldOut(EvaluatorSource source) {
    open(source);
    if (heldOut == null) {
      if (opened.heldOut() == null) {
        throw new IllegalStateException("the source " + key + " has no held-out splits to score");
      }
      heldOut = opened.heldOut().get();
    }
    return heldOut;
  }

  /** How many times this process opened a source. */
  static synchronized int loads() {
    return loads;
  }

  /** Releases the open source and its evaluators. */
  static synchronized void clear() {
    all.forEach(CandidateEvaluator::close);
    if (heldOut != null) {
      heldOut.close();
      heldOut = null;
    }
    all.clear();
    idle.clear();
    if (opened != null) {
      try {
        opened.resources().close();
      } catch (Exception e) {
        throw new IllegalStateException("could not release " + key, e);
      }
    }
    opened = null;
    key = null;
  }
}
