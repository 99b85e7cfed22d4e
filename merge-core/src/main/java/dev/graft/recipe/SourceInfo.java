package dev.graft.recipe;

import java.util.Map;

/**
 * Where a recipe came from: the file and the position of every YAML path, for messages. Positions are not part of
 * a recipe's value: any two SourceInfo are equal, so recipes compare by content.
 */
public final class SourceInfo {
  public static final SourceInfo NONE = new SourceInfo(null, Map.of());
  private final String file;
  private final Map<String, Location> locations;

  public SourceInfo(String file, Map<String, Location> locations) {
    this.file = file;
    this.locations = Map.copyOf(locations);
  }

  /** The file name as given, or null. */
  public String file() {
    return file;
  }

  /** Whether the file has {@code path} itself (not just an ancestor). */
  public boolean has(String path) {
    return locations.containsKey(path);
  }

  /** Position of a YAML path, or of its nearest recorded ancestor. */
  public Location at(String path) {
    String p = path;
    while (true) {
      Location l = locations.get(p);
      if (l != null) {
        return l;
      }
      int cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      if (cut <= 0) {
        return locations.getOrDefault("", Location.UNKNOWN);
      }
      p = p.substring(0, cut);
    }
  }

  /** A problem located at {@code path}. */
  public Problem problem(String path, String message, String hint) {
    Location l = at(path);
    return new Problem(file, l.line(), l.column(), path, message, hint);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SourceInfo;
  }

  @Override
  public int hashCode() {
    return 0;
  }

  @Override
  public String toString() {
    return file == null ? "<recipe>" : file;
  }
}
