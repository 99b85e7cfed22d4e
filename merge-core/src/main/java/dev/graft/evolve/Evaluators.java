package dev.graft.evolve;

/** Helpers shared by candidate evaluators. */
final class Evaluators {
  private Evaluators() {}

  /** One line saying why an evaluation failed. */
  static String reason(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m.lines().findFirst().orElse(""));
  }
}
