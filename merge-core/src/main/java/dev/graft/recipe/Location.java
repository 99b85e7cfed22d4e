package dev.graft.recipe;

/** Where a YAML node starts: 1-based line and column. */
public record Location(int line, int column) {
  public static final Location UNKNOWN = new Location(0, 0);
}
