package dev.graft.recipe;

import dev.graft.InvalidInputException;
import java.util.List;
import java.util.stream.Collectors;

/** A recipe with one or more problems, all reported together (exit code 2 on the command line). */
public final class RecipeException extends InvalidInputException {
  private static final long serialVersionUID = 1L;
  private final transient List<Problem> problems;

  public RecipeException(List<Problem> problems) {
    this(problems, "recipe");
  }

  /** Problems of another kind of YAML file; {@code what} names it in the heading ("task", ...). */
  public RecipeException(List<Problem> problems, String what) {
    super(message(sorted(problems), what));
    this.problems = sorted(problems);
  }

  /** Problems in file order (those without a position first), without repeats. */
  private static List<Problem> sorted(List<Problem> ps) {
    return ps.stream().distinct()
        .sorted(java.util.Comparator.comparing((Problem p) -> p.file() == null ? "" : p.file()).thenComparingInt(Problem::line).thenComparingInt(Problem::column))
        .toList();
  }

  public List<Problem> problems() {
    return problems;
  }

  private static String message(List<Problem> ps, String what) {
    if (ps.isEmpty()) {
      throw new IllegalArgumentException("a RecipeException needs at least one problem");
    }
    String head = ps.size() == 1 ? "invalid " + what + ":" : "invalid " + what + " (" + ps.size() + " problems):";
    return ps.stream().map(p -> "  " + p.format()).collect(Collectors.joining("\n", head + "\n", ""));
  }
}
