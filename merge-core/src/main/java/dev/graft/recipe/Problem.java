package dev.graft.recipe;

import java.util.Objects;

/**
 * One thing wrong with a recipe: where (file, line, column, YAML path), what was found, what was expected, and a
 * hint (a did-you-mean, or how to fix it).
 *
 * @param file the recipe file, or {@code null} for a recipe built in code
 * @param line 1-based line, 0 when unknown
 * @param column 1-based column, 0 when unknown
 * @param path YAML path such as {@code models[1].parameters.density}, empty for the whole document
 * @param message what is wrong: what was found and what was expected
 * @param hint how to fix it, or empty
 */
public record Problem(String file, int line, int column, String path, String message, String hint) {
  public Problem {
    Objects.requireNonNull(message, "message");
    path = path == null ? "" : path;
    hint = hint == null ? "" : hint;
  }

  /** {@code recipe.yml:14:9 models[1].parameters.densty: unknown parameter ... Did you mean 'density'?} */
  public String format() {
    StringBuilder b = new StringBuilder();
    if (file != null) {
      b.append(file);
      if (line > 0) {
        b.append(':').append(line).append(':').append(column);
      }
      b.append(' ');
    }
    if (!path.isEmpty()) {
      b.append(path).append(": ");
    }
    b.append(message);
    if (!hint.isEmpty()) {
      b.append(". ").append(hint);
    }
    return b.toString();
  }
}
